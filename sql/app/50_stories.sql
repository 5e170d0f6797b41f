{# Stories: 24-hour media, and who viewed them. #}
-- SnapBet stories.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.stories (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    media_url   text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    deleted_at  timestamptz,
    view_count  integer     NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.story_views (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    story_id   uuid        NOT NULL
                           REFERENCES {{ app_schema | ident }}.stories (id) ON DELETE CASCADE,
    viewer_id  uuid        NOT NULL
                           REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    viewed_at  timestamptz NOT NULL DEFAULT now()
);
