{# Notifications and weekly badges. SnapBet's columns, defaults, NOT NULLs and constraints
   (supabase/migrations 003, 004, 005, 006, 009, 012); a `--` comment marks each deliberate
   difference. #}
-- SnapBet notifications; `read` is true exactly when read_at is set (SnapBet's rule
-- written as an equality: the same rows pass). SnapBet checks `type` twice:
-- valid_notification_type (migration 006) and notifications_type_check (012, which adds
-- 'follow_request'); a row must pass both, so the one check below lists what both allow.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.notifications (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    type        text        NOT NULL,
    data        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    read        boolean     DEFAULT false,
    read_at     timestamptz,
    created_at  timestamptz DEFAULT now(),
    CONSTRAINT notifications_type_check CHECK (type IN (
        'tail', 'fade', 'bet_won', 'bet_lost', 'tail_won', 'tail_lost', 'fade_won', 'fade_lost',
        'follow', 'message', 'mention', 'milestone', 'system'
    )),
    CONSTRAINT notifications_read_check CHECK (read = (read_at IS NOT NULL))
);
ALTER TABLE {{ app_schema | ident }}.notifications
    ALTER COLUMN read DROP NOT NULL,
    ALTER COLUMN created_at DROP NOT NULL;

-- Weekly badges: a row per earning; lost_at NULL means the badge is active.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.user_badges (
    user_id          uuid        NOT NULL
                                 REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    badge_id         text        NOT NULL,
    earned_at        timestamptz NOT NULL DEFAULT now(),
    lost_at          timestamptz,
    week_start_date  date,
    weekly_reset_at  timestamptz,
    PRIMARY KEY (user_id, badge_id, earned_at)
);

CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.badge_history (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    badge_id    text        NOT NULL,
    action      text        NOT NULL CHECK (action IN ('earned', 'lost')),
    created_at  timestamptz DEFAULT now()
);
ALTER TABLE {{ app_schema | ident }}.badge_history
    ALTER COLUMN created_at DROP NOT NULL;
