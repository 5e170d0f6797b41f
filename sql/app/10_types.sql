{# Enum types, each created only when missing (see macros/create_enum.sql). #}
{% from "macros/create_enum.sql" import create_enum %}
-- SnapBet enum types.
{{ create_enum(app_schema, 'game_status', ['scheduled', 'live', 'completed', 'cancelled']) }}
{{ create_enum(app_schema, 'bet_type', ['spread', 'total', 'moneyline']) }}
{{ create_enum(app_schema, 'bet_status', ['pending', 'won', 'lost', 'push', 'cancelled']) }}
{{ create_enum(app_schema, 'chat_type', ['dm', 'group']) }}
{{ create_enum(app_schema, 'chat_role', ['admin', 'member']) }}
{{ create_enum(app_schema, 'pick_action', ['tail', 'fade']) }}
