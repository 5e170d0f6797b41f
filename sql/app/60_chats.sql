{# Chats (direct messages and groups), their members, messages and read receipts.
   Deleting a chat cascades to members and messages, a message to its reads. SnapBet's
   columns, defaults, NOT NULLs and constraints (supabase/migrations 001, 020, 021, 027);
   a `--` comment marks each deliberate difference. The ALTER TABLE statements and
   add_constraint() bring a table created by an earlier version of this file to the same
   state; on a current table they change nothing. #}
{% from "macros/add_constraint.sql" import add_constraint %}
-- SnapBet chats. The app writes settings as {"expiration_hours": 24} (how long messages
-- live); the column's default is SnapBet's '{}'. A group has a name of at most 50
-- characters, a direct message none. last_message_at is kept by SnapBet's trigger
-- update_chat_last_message_time (95_triggers.sql). SnapBet also has avatar_url and
-- created_by; no job reads them.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.chats (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_type        {{ app_schema | ident }}.chat_type NOT NULL,
    name             text,
    settings         jsonb       DEFAULT '{}'::jsonb,
    created_at       timestamptz DEFAULT now(),
    last_message_at  timestamptz
);
ALTER TABLE {{ app_schema | ident }}.chats
    ALTER COLUMN settings SET DEFAULT '{}'::jsonb,
    ALTER COLUMN settings DROP NOT NULL,
    ALTER COLUMN created_at DROP NOT NULL;
{{ add_constraint(app_schema, 'chats', 'chats_name_check',
   "CHECK ((chat_type = 'dm' AND name IS NULL)
          OR (chat_type = 'group' AND name IS NOT NULL AND char_length(name) <= 50))") }}

-- Members of a chat; a group has admins. SnapBet also has last_read_at and is_archived;
-- no job reads them.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.chat_members (
    chat_id    uuid        NOT NULL
                           REFERENCES {{ app_schema | ident }}.chats (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL
                           REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    role       {{ app_schema | ident }}.chat_role DEFAULT 'member',
    joined_at  timestamptz DEFAULT now(),
    PRIMARY KEY (chat_id, user_id)
);
-- An earlier version of this file made role text; SnapBet's is the enum chat_role.
DO $role$
BEGIN
    IF (SELECT a.atttypid
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = {{ ((app_schema | ident) ~ '.chat_members') | literal }}::regclass
           AND a.attname = 'role') = 'pg_catalog.text'::pg_catalog.regtype THEN
        ALTER TABLE {{ app_schema | ident }}.chat_members
            ALTER COLUMN role DROP DEFAULT,
            ALTER COLUMN role TYPE {{ app_schema | ident }}.chat_role
                USING role::{{ app_schema | ident }}.chat_role,
            ALTER COLUMN role SET DEFAULT 'member';
    END IF;
END
$role$;
ALTER TABLE {{ app_schema | ident }}.chat_members
    ALTER COLUMN role DROP NOT NULL,
    ALTER COLUMN joined_at DROP NOT NULL;

-- SnapBet messages. message_type and metadata come from SnapBet's group messaging
-- (migrations 020, 021, 027): its triggers write `system` messages, which take their
-- created_at and expires_at from the defaults. SnapBet also has media_type, bet_id,
-- report_count, is_blocked and archived; no job reads them.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.messages (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    chat_id       uuid        NOT NULL
                              REFERENCES {{ app_schema | ident }}.chats (id) ON DELETE CASCADE,
    sender_id     uuid        NOT NULL
                              REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    content       text        NOT NULL,
    media_url     text,
    created_at    timestamptz DEFAULT now(),
    expires_at    timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    deleted_at    timestamptz,
    message_type  text        DEFAULT 'text',
    metadata      jsonb       DEFAULT '{}'::jsonb
);
ALTER TABLE {{ app_schema | ident }}.messages
    ADD COLUMN IF NOT EXISTS message_type text DEFAULT 'text',
    ADD COLUMN IF NOT EXISTS metadata jsonb DEFAULT '{}'::jsonb,
    ALTER COLUMN content SET NOT NULL,
    ALTER COLUMN created_at DROP NOT NULL,
    ALTER COLUMN expires_at SET DEFAULT now() + interval '24 hours';
{{ add_constraint(app_schema, 'messages', 'messages_content_check', 'CHECK (char_length(content) <= 1000)') }}
{{ add_constraint(app_schema, 'messages', 'messages_message_type_check',
   "CHECK (message_type IN ('text', 'media', 'pick', 'system'))") }}

CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.message_reads (
    message_id  uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.messages (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    read_at     timestamptz DEFAULT now(),
    PRIMARY KEY (message_id, user_id)
);
ALTER TABLE {{ app_schema | ident }}.message_reads
    ALTER COLUMN read_at DROP NOT NULL;
