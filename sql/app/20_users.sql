{# Users, their referrals and their bankrolls. Money is integer cents.
   Columns, defaults, NOT NULLs and constraints are SnapBet's (supabase/migrations 001,
   002, 005, 015, 017, 021); a `--` comment marks each deliberate difference. The ALTER
   TABLE statements bring a table created by an earlier version of this file to the same
   state; on a current table they change nothing. #}
-- SnapBet users: only the columns the jobs read. SnapBet also has oauth_provider and
-- oauth_id (NOT NULL), display_name, bio, settings and mock columns; no job reads them.
-- Its CHECK users_username_format (^[a-zA-Z0-9_]{3,20}$) is left out too: no job writes a
-- username, and the seed's generated names outgrow 20 characters past a million users.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.users (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text        NOT NULL UNIQUE,
    username        text        UNIQUE,
    avatar_url      text,
    referral_count  integer     DEFAULT 0,
    is_mock         boolean     DEFAULT false,
    created_at      timestamptz DEFAULT now(),
    updated_at      timestamptz DEFAULT now(),
    deleted_at      timestamptz
);
ALTER TABLE {{ app_schema | ident }}.users
    ALTER COLUMN created_at DROP NOT NULL;

-- SnapBet's system user (migration 021): the sender of the `system` messages its triggers
-- write, such as "<username> left the group". No bankroll, as in SnapBet.
INSERT INTO {{ app_schema | ident }}.users (id, email, username, created_at)
VALUES ('00000000-0000-0000-0000-000000000000', 'system@snapbet.internal', 'system', now())
ON CONFLICT (id) DO NOTHING;

-- Who brought whom: a user is referred at most once.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.referrals (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    referrer_id  uuid        NOT NULL REFERENCES {{ app_schema | ident }}.users (id),
    referred_id  uuid        NOT NULL UNIQUE REFERENCES {{ app_schema | ident }}.users (id),
    code         text        NOT NULL,
    created_at   timestamptz DEFAULT now()
);
ALTER TABLE {{ app_schema | ident }}.referrals
    ALTER COLUMN created_at DROP NOT NULL;

-- One fake-money bankroll per user; a bet's stake leaves balance when it is placed.
-- last_reset defaults to now() as in SnapBet: a new bankroll counts as reset at creation.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.bankrolls (
    user_id         uuid        PRIMARY KEY
                                REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    balance         integer     NOT NULL DEFAULT 100000 CHECK (balance >= 0),
    total_wagered   integer     NOT NULL DEFAULT 0 CHECK (total_wagered >= 0),
    total_won       integer     NOT NULL DEFAULT 0 CHECK (total_won >= 0),
    win_count       integer     NOT NULL DEFAULT 0 CHECK (win_count >= 0),
    loss_count      integer     NOT NULL DEFAULT 0 CHECK (loss_count >= 0),
    push_count      integer     NOT NULL DEFAULT 0 CHECK (push_count >= 0),
    biggest_win     integer     DEFAULT 0,
    biggest_loss    integer     DEFAULT 0,
    season_high     integer     DEFAULT 100000,
    season_low      integer     DEFAULT 100000,
    last_reset      timestamptz DEFAULT now(),
    reset_count     integer     DEFAULT 0,
    stats_metadata  jsonb       DEFAULT '{}'::jsonb,
    referral_bonus  integer     DEFAULT 0,
    weekly_deposit  integer     DEFAULT 100000,
    created_at      timestamptz DEFAULT now(),
    updated_at      timestamptz DEFAULT now()
);
ALTER TABLE {{ app_schema | ident }}.bankrolls
    ALTER COLUMN last_reset SET DEFAULT now(),
    ALTER COLUMN created_at DROP NOT NULL;
