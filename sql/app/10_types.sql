{# Enum types. CREATE TYPE has no IF NOT EXISTS, so each one is created in a DO block
   guarded by a pg_type lookup in the app schema. #}
-- SnapBet enum types.

DO $type$
BEGIN
    IF NOT EXISTS (
        SELECT 1
          FROM pg_catalog.pg_type t
          JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = {{ app_schema | literal }} AND t.typname = 'game_status'
    ) THEN
        CREATE TYPE {{ app_schema | ident }}.game_status AS ENUM ('scheduled', 'live', 'completed', 'cancelled');
    END IF;
END
$type$;

DO $type$
BEGIN
    IF NOT EXISTS (
        SELECT 1
          FROM pg_catalog.pg_type t
          JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = {{ app_schema | literal }} AND t.typname = 'bet_type'
    ) THEN
        CREATE TYPE {{ app_schema | ident }}.bet_type AS ENUM ('spread', 'total', 'moneyline');
    END IF;
END
$type$;

DO $type$
BEGIN
    IF NOT EXISTS (
        SELECT 1
          FROM pg_catalog.pg_type t
          JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = {{ app_schema | literal }} AND t.typname = 'bet_status'
    ) THEN
        CREATE TYPE {{ app_schema | ident }}.bet_status AS ENUM ('pending', 'won', 'lost', 'push', 'cancelled');
    END IF;
END
$type$;

DO $type$
BEGIN
    IF NOT EXISTS (
        SELECT 1
          FROM pg_catalog.pg_type t
          JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = {{ app_schema | literal }} AND t.typname = 'chat_type'
    ) THEN
        CREATE TYPE {{ app_schema | ident }}.chat_type AS ENUM ('dm', 'group');
    END IF;
END
$type$;

DO $type$
BEGIN
    IF NOT EXISTS (
        SELECT 1
          FROM pg_catalog.pg_type t
          JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname = {{ app_schema | literal }} AND t.typname = 'pick_action'
    ) THEN
        CREATE TYPE {{ app_schema | ident }}.pick_action AS ENUM ('tail', 'fade');
    END IF;
END
$type$;
