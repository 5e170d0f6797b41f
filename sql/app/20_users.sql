{# Users, their referrals and their bankrolls. Money is integer cents. #}
-- SnapBet users.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.users (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text        NOT NULL UNIQUE,
    username        text        UNIQUE,
    avatar_url      text,
    referral_count  integer     DEFAULT 0,
    is_mock         boolean     DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz DEFAULT now(),
    deleted_at      timestamptz
);

-- Who brought whom: a user is referred at most once.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.referrals (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    referrer_id  uuid        NOT NULL REFERENCES {{ app_schema | ident }}.users (id),
    referred_id  uuid        NOT NULL UNIQUE REFERENCES {{ app_schema | ident }}.users (id),
    code         text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- One fake-money bankroll per user; a bet's stake leaves balance when it is placed.
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
    last_reset      timestamptz,
    reset_count     integer     DEFAULT 0,
    stats_metadata  jsonb       DEFAULT '{}'::jsonb,
    referral_bonus  integer     DEFAULT 0,
    weekly_deposit  integer     DEFAULT 100000,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz DEFAULT now()
);
