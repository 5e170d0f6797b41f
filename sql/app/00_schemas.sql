{# The reference SnapBet app schema, part 0: the schemas themselves.
   Variables: app_schema (SnapBet's tables, default public) and storage_schema (Supabase
   Storage, default storage). Every file of sql/app/ is idempotent: running the whole
   folder twice, in file-name order, succeeds and changes nothing. #}
-- SnapBet reference schema: the app's schema and Supabase's storage schema.
CREATE SCHEMA IF NOT EXISTS {{ app_schema | ident }};
CREATE SCHEMA IF NOT EXISTS {{ storage_schema | ident }};
