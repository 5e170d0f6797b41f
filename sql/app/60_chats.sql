{# Chats (direct messages and groups), their members, messages and read receipts.
   Deleting a chat cascades to members and messages, a message to its reads. #}
-- SnapBet chats. settings: {"expiration_hours": 24} sets how long messages live.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.chats (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_type        {{ app_schema | ident }}.chat_type NOT NULL,
    name             text,
    settings         jsonb       NOT NULL DEFAULT '{"expiration_hours": 24}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_message_at  timestamptz
);

CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.chat_members (
    chat_id    uuid        NOT NULL
                           REFERENCES {{ app_schema | ident }}.chats (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL
                           REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    role       text        NOT NULL DEFAULT 'member',
    joined_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (chat_id, user_id)
);

CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.messages (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.chats (id) ON DELETE CASCADE,
    sender_id   uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    content     text,
    media_url   text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    deleted_at  timestamptz
);

CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.message_reads (
    message_id  uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.messages (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    read_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, user_id)
);
