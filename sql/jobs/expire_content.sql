{#
  expire_content (docs/rules.md: The jobs): soft-delete what has expired, then hard-delete what was
  soft-deleted long ago. Each rule is written once, in a soft_delete / select_apply call,
  and serves the dry run (count) and the real run (write) alike.
  Variables: app_schema, jobs_schema, pick_grace, hard_delete_after.
#}
{% from "macros/job_function.sql" import job_function with context %}
{% from "macros/soft_delete.sql" import soft_delete %}
{% from "macros/hard_delete.sql" import hard_delete %}
{% from "macros/job_result.sql" import job_result %}
{% set app = app_schema | ident %}
{% set by_expiry = [('expires_at', 'timestamptz'), ('id', 'uuid')] %}
{% set declare %}
    v_cutoff    timestamptz := p_now - {{ hard_delete_after | interval }};
    v_pick_cut  timestamptz := p_now - {{ pick_grace | interval }};
    v_ids       uuid[];
    v_post_ids  uuid[]      := '{}'::uuid[];
    v_hard      bigint      := 0;
{% endset %}
{% call job_function("expire_content", declare) %}
{{ soft_delete('posts', app ~ '.posts',
        "t.deleted_at IS NULL AND t.post_type IN ('content', 'outcome') AND t.expires_at <= p_now",
        by_expiry) }}
    v_post_ids := v_post_ids || v_ids;

{{ soft_delete('picks', app ~ '.posts',
        "t.deleted_at IS NULL AND t.post_type = 'pick' AND coalesce(
             (SELECT g.commence_time <= v_pick_cut
                FROM " ~ app ~ ".bets AS b JOIN " ~ app ~ ".games AS g ON g.id = b.game_id
               WHERE b.id = t.bet_id),
             t.expires_at <= p_now)",
        by_expiry) }}
    v_post_ids := v_post_ids || v_ids;

{{ soft_delete('stories', app ~ '.stories', 't.deleted_at IS NULL AND t.expires_at <= p_now', by_expiry) }}

{{ soft_delete('messages', app ~ '.messages', 't.deleted_at IS NULL AND t.expires_at <= p_now', by_expiry) }}

    -- A dry run has deleted no post, so it also counts comments of the posts it would delete.
{{ soft_delete('comments', app ~ '.comments',
        't.deleted_at IS NULL AND EXISTS (
             SELECT 1 FROM ' ~ app ~ '.posts AS p
              WHERE p.id = t.post_id AND (p.deleted_at IS NOT NULL OR p.id = ANY (v_post_ids)))',
        [('post_id', 'uuid'), ('id', 'uuid')]) }}

    -- Hard deletes, comments first so that each row is counted once: deleting a post
    -- cascades to its remaining comments, reactions and pick actions.
{% for table in ['comments', 'posts', 'stories', 'messages'] %}
{{ hard_delete('hard_deleted ' ~ table, app ~ '.' ~ (table | ident), 't.deleted_at < v_cutoff',
               [('deleted_at', 'timestamptz'), ('id', 'uuid')], record=false) }}
    v_hard := v_hard + v_n;
{% endfor %}
    v_details := v_details || pg_catalog.jsonb_build_object('hard_deleted', v_hard);

{{ job_result('(SELECT sum(value::bigint) FROM pg_catalog.jsonb_each_text(v_details))') }}
{% endcall %}
