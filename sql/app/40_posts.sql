{# Posts and what hangs off them: comments, reactions, tails and fades. Deleting a post
   cascades to all three. SnapBet's columns, defaults, NOT NULLs and constraints
   (supabase/migrations 001, 008, 010, 032); a `--` comment marks each deliberate
   difference. The ALTER TABLE statements and add_constraint() bring a table created by an
   earlier version of this file to the same state; on a current table they change nothing. #}
{% from "macros/add_constraint.sql" import add_constraint %}
-- SnapBet posts: `content`, `pick` (shares bet_id) or `outcome` (shares settled_bet_id).
-- Every post expires; expired posts are soft-deleted, then hard-deleted later. post_type
-- has no default (SnapBet's migration 008 drops it). The counters are kept by SnapBet's
-- triggers (95_triggers.sql) and may be NULL, as in SnapBet. SnapBet also has media_type
-- (NOT NULL), effect_id, report_count and archived; no job reads them.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.posts (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid        NOT NULL
                                REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    bet_id          uuid        REFERENCES {{ app_schema | ident }}.bets (id) ON DELETE SET NULL,
    settled_bet_id  uuid        REFERENCES {{ app_schema | ident }}.bets (id),
    post_type       text        NOT NULL,
    media_url       text        NOT NULL,
    thumbnail_url   text,
    caption         text,
    tail_count      integer     DEFAULT 0,
    fade_count      integer     DEFAULT 0,
    reaction_count  integer     DEFAULT 0,
    comment_count   integer     DEFAULT 0,
    created_at      timestamptz DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    deleted_at      timestamptz,
    CONSTRAINT posts_post_type_check CHECK (post_type IN ('content', 'pick', 'outcome')),
    CONSTRAINT posts_expiration_check CHECK (expires_at > created_at)
);
ALTER TABLE {{ app_schema | ident }}.posts
    ALTER COLUMN post_type DROP DEFAULT,
    ALTER COLUMN tail_count DROP NOT NULL,
    ALTER COLUMN fade_count DROP NOT NULL,
    ALTER COLUMN reaction_count DROP NOT NULL,
    ALTER COLUMN comment_count DROP NOT NULL,
    ALTER COLUMN created_at DROP NOT NULL;
-- SnapBet's one rule for a post's bets (migration 008). It makes deleting a pick's bet fail
-- despite ON DELETE SET NULL, as it does in SnapBet. It replaces this schema's earlier,
-- looser pair of checks.
ALTER TABLE {{ app_schema | ident }}.posts
    DROP CONSTRAINT IF EXISTS posts_pick_bet_check,
    DROP CONSTRAINT IF EXISTS posts_outcome_bet_check;
{{ add_constraint(app_schema, 'posts', 'posts_bet_requirement',
   "CHECK ((post_type = 'pick' AND bet_id IS NOT NULL)
          OR (post_type = 'outcome' AND settled_bet_id IS NOT NULL)
          OR (post_type = 'content' AND bet_id IS NULL AND settled_bet_id IS NULL))") }}
{{ add_constraint(app_schema, 'posts', 'posts_caption_check', 'CHECK (char_length(caption) <= 280)') }}
{{ add_constraint(app_schema, 'posts', 'posts_tail_count_check', 'CHECK (tail_count >= 0)') }}
{{ add_constraint(app_schema, 'posts', 'posts_fade_count_check', 'CHECK (fade_count >= 0)') }}
{{ add_constraint(app_schema, 'posts', 'posts_reaction_count_check', 'CHECK (reaction_count >= 0)') }}
{{ add_constraint(app_schema, 'posts', 'posts_comment_count_check', 'CHECK (comment_count >= 0)') }}

-- Comments on posts; soft-deleted with their post. SnapBet also has edited_at and
-- report_count; no job reads them.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.comments (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.posts (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    content     text        NOT NULL,
    created_at  timestamptz DEFAULT now(),
    deleted_at  timestamptz
);
ALTER TABLE {{ app_schema | ident }}.comments
    ALTER COLUMN created_at DROP NOT NULL;
{{ add_constraint(app_schema, 'comments', 'comments_content_check', 'CHECK (char_length(content) <= 280)') }}

-- Emoji reactions on posts. Deliberate differences, as no job inserts reactions or reads
-- their emoji: SnapBet limits emoji to its current set (reactions_emoji_check, migration
-- 032; data seeded by earlier versions of this schema would fail it), lets a reaction name
-- a story instead (story_id, post_id then NULL) and allows one reaction per user and post
-- or story (reactions_unique_per_content).
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.reactions (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.posts (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    emoji       text        NOT NULL,
    created_at  timestamptz DEFAULT now()
);
ALTER TABLE {{ app_schema | ident }}.reactions
    ALTER COLUMN created_at DROP NOT NULL;

-- Tails (copy the pick) and fades (bet against it); resulting_bet_id is the bet placed.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.pick_actions (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    post_id           uuid        NOT NULL
                                  REFERENCES {{ app_schema | ident }}.posts (id) ON DELETE CASCADE,
    user_id           uuid        NOT NULL
                                  REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    action_type       {{ app_schema | ident }}.pick_action NOT NULL,
    resulting_bet_id  uuid        REFERENCES {{ app_schema | ident }}.bets (id) ON DELETE SET NULL,
    created_at        timestamptz DEFAULT now(),
    CONSTRAINT pick_actions_post_id_user_id_key UNIQUE (post_id, user_id)
);
ALTER TABLE {{ app_schema | ident }}.pick_actions
    ALTER COLUMN created_at DROP NOT NULL;
