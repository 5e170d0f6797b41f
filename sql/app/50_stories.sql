{# Stories: 24-hour media, and who viewed them. SnapBet's columns, defaults, NOT NULLs and
   constraints (supabase/migrations 001); a `--` comment marks each deliberate difference. #}
{% from "macros/add_constraint.sql" import add_constraint %}
-- SnapBet stories. view_count is kept by SnapBet's trigger increment_story_view_count
-- (95_triggers.sql). SnapBet also has media_type (NOT NULL), caption, story_type,
-- metadata, story_content_type, report_count and archived; no job reads them.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.stories (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid        NOT NULL
                            REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    media_url   text        NOT NULL,
    created_at  timestamptz DEFAULT now(),
    expires_at  timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    deleted_at  timestamptz,
    view_count  integer     DEFAULT 0
);
ALTER TABLE {{ app_schema | ident }}.stories
    ALTER COLUMN created_at DROP NOT NULL,
    ALTER COLUMN view_count DROP NOT NULL;
{{ add_constraint(app_schema, 'stories', 'stories_view_count_check', 'CHECK (view_count >= 0)') }}

-- Who viewed a story: once per viewer.
CREATE TABLE IF NOT EXISTS {{ app_schema | ident }}.story_views (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    story_id   uuid        NOT NULL
                           REFERENCES {{ app_schema | ident }}.stories (id) ON DELETE CASCADE,
    viewer_id  uuid        NOT NULL
                           REFERENCES {{ app_schema | ident }}.users (id) ON DELETE CASCADE,
    viewed_at  timestamptz DEFAULT now()
);
ALTER TABLE {{ app_schema | ident }}.story_views
    ALTER COLUMN viewed_at DROP NOT NULL;
{{ add_constraint(app_schema, 'story_views', 'story_views_story_id_viewer_id_key', 'UNIQUE (story_id, viewer_id)') }}
