{#
  The reference SnapBet schema (sql/app/) distributed on a Citus coordinator, as
  docs/citus.md designs it: what each table becomes, and the constraints Citus cannot keep
  as they are, replaced. Run by `deploy --with-app-schema` on a Citus coordinator, once the
  app schema is installed, each table in its own statement; idempotent: a table already
  distributed (or a reference table) is left as it is, so running it again changes nothing.
  Needs the right to create distributed tables: the owner of the app's tables (or a
  superuser). Variables: app_schema. storage.objects stays on the coordinator (docs/citus.md).
#}
{% set app = app_schema | ident %}
-- Triggers on distributed tables fire on each shard; every SnapBet trigger writes only rows
-- of its own table or of the co-located row it names by the distribution column.
SET LOCAL citus.enable_unsafe_triggers = on;
SET LOCAL citus.multi_shard_modify_mode = 'sequential';
DO $citus$
DECLARE
    v_app text := {{ app_schema | literal }};
    v_fks text[] := '{}';
    r record;
BEGIN
    -- Reference tables: small, read by every shard's queries, and the targets of the
    -- foreign keys every distributed table keeps. (Creating the first one makes Citus take
    -- every table with a foreign key to it into its metadata as a local table; each of
    -- them is distributed below.)
    FOR r IN SELECT * FROM (VALUES (1, 'users'), (2, 'games'), (3, 'referrals')) AS t (n, name) ORDER BY n LOOP
        IF NOT EXISTS (SELECT FROM pg_dist_partition
                        WHERE logicalrelid = pg_catalog.format('%I.%I', v_app, r.name)::regclass
                          AND partmethod = 'n' AND repmodel = 't') THEN
            PERFORM create_reference_table(pg_catalog.format('%I.%I', v_app, r.name)::regclass);
        END IF;
    END LOOP;

    -- Constraints a distributed table cannot keep: the foreign keys between tables that
    -- are not co-located by their keys go, and a primary key without the distribution
    -- column becomes one that includes it (ids are random UUIDs, unique on their own);
    -- docs/citus.md says what replaces each.
    EXECUTE pg_catalog.format('ALTER TABLE %I.posts DROP CONSTRAINT IF EXISTS posts_bet_id_fkey,'
                              ' DROP CONSTRAINT IF EXISTS posts_settled_bet_id_fkey', v_app);
    EXECUTE pg_catalog.format('ALTER TABLE %I.pick_actions DROP CONSTRAINT IF EXISTS pick_actions_resulting_bet_id_fkey',
                              v_app);
    EXECUTE pg_catalog.format('ALTER TABLE %I.message_reads DROP CONSTRAINT IF EXISTS message_reads_message_id_fkey',
                              v_app);
    FOR r IN SELECT * FROM (VALUES
            ('bets', 'user_id'), ('comments', 'post_id'), ('reactions', 'post_id'), ('pick_actions', 'post_id'),
            ('story_views', 'story_id'), ('messages', 'chat_id'), ('notifications', 'user_id'),
            ('badge_history', 'user_id')) AS t (name, col) LOOP
        IF NOT EXISTS (SELECT FROM pg_constraint AS k
                         JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                        WHERE k.conrelid = pg_catalog.format('%I.%I', v_app, r.name)::regclass
                          AND k.contype = 'p' AND a.attname = r.col) THEN
            EXECUTE pg_catalog.format('ALTER TABLE %I.%I DROP CONSTRAINT %I', v_app, r.name, r.name || '_pkey');
            EXECUTE pg_catalog.format('ALTER TABLE %I.%I ADD PRIMARY KEY (%I, id)', v_app, r.name, r.col);
        END IF;
    END LOOP;

    -- The foreign keys between tables distributed below (a comment's post, a member's
    -- chat) are taken off while they are distributed, and put back once both sides are:
    -- Citus distributes neither side while the other is a local table.
    FOR r IN SELECT k.conrelid::regclass AS tbl, k.conname, pg_catalog.pg_get_constraintdef(k.oid) AS def
               FROM pg_constraint AS k
              WHERE k.contype = 'f'
                AND k.conrelid IN (SELECT pg_catalog.format('%I.%I', v_app, t)::regclass FROM pg_catalog.unnest(
                        ARRAY['comments', 'reactions', 'pick_actions', 'story_views', 'chat_members', 'messages']) AS t)
                AND k.confrelid IN (SELECT pg_catalog.format('%I.%I', v_app, t)::regclass FROM pg_catalog.unnest(
                        ARRAY['posts', 'stories', 'chats']) AS t)
                AND NOT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = k.conrelid AND partmethod = 'h') LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
        v_fks := v_fks || pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.tbl, r.conname, r.def);
    END LOOP;

    -- Distributed tables, parents first. Every one is hashed on a uuid into as many shards
    -- (citus.shard_count), so all of them share one co-location group: rows with equal
    -- keys (a post and its comments, a user's bankroll and bets) live on the same node.
    FOR r IN SELECT * FROM (VALUES
            (1, 'bankrolls', 'user_id'), (2, 'bets', 'user_id'), (3, 'notifications', 'user_id'),
            (4, 'user_badges', 'user_id'), (5, 'badge_history', 'user_id'),
            (6, 'posts', 'id'), (7, 'comments', 'post_id'), (8, 'reactions', 'post_id'), (9, 'pick_actions', 'post_id'),
            (10, 'stories', 'id'), (11, 'story_views', 'story_id'),
            (12, 'chats', 'id'), (13, 'chat_members', 'chat_id'), (14, 'messages', 'chat_id'),
            (15, 'message_reads', 'message_id')) AS t (n, name, col) ORDER BY n LOOP
        IF NOT EXISTS (SELECT FROM pg_dist_partition
                        WHERE logicalrelid = pg_catalog.format('%I.%I', v_app, r.name)::regclass AND partmethod = 'h') THEN
            PERFORM create_distributed_table(pg_catalog.format('%I.%I', v_app, r.name)::regclass, r.col);
        END IF;
    END LOOP;
    FOR r IN SELECT pg_catalog.unnest(v_fks) AS ddl LOOP
        EXECUTE r.ddl;
    END LOOP;
    -- A bet is looked up by its id alone (a pick's bet, a tail's resulting bet), which the
    -- key (user_id, id) no longer serves: an index on id beside it, on every shard.
    EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS bets_id_idx ON %I.bets (id)', v_app);
END
$citus$;
