{#
  expire_content (SPEC 2): soft-delete what has expired, then hard-delete what was
  soft-deleted long ago. Each rule is written once, in a select_apply call, and serves
  the dry run (count) and the real run (write) alike.
  Variables: app_schema, jobs_schema, pick_grace, hard_delete_after.
#}
{% from "macros/select_apply.sql" import select_apply with context %}
{% from "macros/job_header.sql" import job_header with context %}
{% from "macros/revoke_and_comment.sql" import revoke_and_comment with context %}
{% set app = app_schema | ident %}
CREATE OR REPLACE FUNCTION {{ jobs_schema | ident }}.expire_content(
    p_now     timestamptz,
    p_dry_run boolean DEFAULT false,
    p_limit   integer DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_cutoff    timestamptz := p_now - {{ hard_delete_after | interval }};
    v_pick_cut  timestamptz := p_now - {{ pick_grace | interval }};
    v_left      bigint      := p_limit;
    v_ids       uuid[];
    v_post_ids  uuid[]      := '{}';
    v_n         bigint;
    v_hard      bigint      := 0;
    v_details   jsonb       := '{}'::jsonb;
BEGIN
    /* Soft-deletes (deleted_at = p_now) expired content and outcome posts, pick posts
       whose game started at least pick_grace ago (or that expired, when the pick has no
       game), expired stories and messages, and comments of soft-deleted posts; then
       hard-deletes posts, stories, messages and comments soft-deleted more than
       hard_delete_after ago. At most p_limit rows in all. With p_dry_run it writes
       nothing and returns the same figures. Returns {affected, details}. */
{{ job_header() }}

{% call select_apply('posts', app ~ '.posts',
        "t.deleted_at IS NULL AND t.post_type IN ('content', 'outcome') AND t.expires_at <= p_now",
        't.expires_at, t.id') %}
        UPDATE {{ app }}.posts AS t SET deleted_at = p_now
         WHERE t.id = ANY (v_ids) AND t.deleted_at IS NULL;
{% endcall %}
    v_post_ids := v_post_ids || v_ids;

{% call select_apply('picks', app ~ '.posts',
        "t.deleted_at IS NULL AND t.post_type = 'pick' AND coalesce(
             (SELECT g.commence_time <= v_pick_cut
                FROM " ~ app ~ ".bets AS b JOIN " ~ app ~ ".games AS g ON g.id = b.game_id
               WHERE b.id = t.bet_id),
             t.expires_at <= p_now)",
        't.id') %}
        UPDATE {{ app }}.posts AS t SET deleted_at = p_now
         WHERE t.id = ANY (v_ids) AND t.deleted_at IS NULL;
{% endcall %}
    v_post_ids := v_post_ids || v_ids;

{% call select_apply('stories', app ~ '.stories',
        't.deleted_at IS NULL AND t.expires_at <= p_now', 't.expires_at, t.id') %}
        UPDATE {{ app }}.stories AS t SET deleted_at = p_now
         WHERE t.id = ANY (v_ids) AND t.deleted_at IS NULL;
{% endcall %}

{% call select_apply('messages', app ~ '.messages',
        't.deleted_at IS NULL AND t.expires_at <= p_now', 't.expires_at, t.id') %}
        UPDATE {{ app }}.messages AS t SET deleted_at = p_now
         WHERE t.id = ANY (v_ids) AND t.deleted_at IS NULL;
{% endcall %}

    -- A dry run has deleted no post, so it also counts comments of the posts it would delete.
{% call select_apply('comments', app ~ '.comments',
        't.deleted_at IS NULL AND EXISTS (
             SELECT 1 FROM ' ~ app ~ '.posts AS p
              WHERE p.id = t.post_id AND (p.deleted_at IS NOT NULL OR p.id = ANY (v_post_ids)))',
        't.id') %}
        UPDATE {{ app }}.comments AS t SET deleted_at = p_now
         WHERE t.id = ANY (v_ids) AND t.deleted_at IS NULL;
{% endcall %}

    -- Hard deletes, comments first so that each row is counted once: deleting a post
    -- cascades to its remaining comments, reactions and pick actions.
{% for table in ['comments', 'posts', 'stories', 'messages'] %}
{% call select_apply('hard_deleted_' ~ table, app ~ '.' ~ (table | ident),
        't.deleted_at < v_cutoff', 't.deleted_at, t.id') %}
        DELETE FROM {{ app }}.{{ table | ident }} AS t
         WHERE t.id = ANY (v_ids) AND t.deleted_at < v_cutoff;
{% endcall %}
    v_hard := v_hard + v_n;
{% endfor %}
    v_details := v_details
        - 'hard_deleted_comments' - 'hard_deleted_posts' - 'hard_deleted_stories' - 'hard_deleted_messages'
        || pg_catalog.jsonb_build_object('hard_deleted', v_hard);

    RETURN pg_catalog.jsonb_build_object(
        'affected', (SELECT sum(value::bigint) FROM pg_catalog.jsonb_each_text(v_details)),
        'details', v_details);
END
$fn$;
{{ revoke_and_comment("expire_content",
    "Soft-deletes expired posts, picks, stories, messages and their comments; hard-deletes rows soft-deleted long ago. "
    "Args: p_now (the moment of the run), p_dry_run (write nothing, report the same figures), p_limit (at most this many rows). "
    "Returns {affected, details{posts, picks, stories, messages, comments, hard_deleted}}.") }}
