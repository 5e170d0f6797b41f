{#
  The position protocol of macros/select_apply.sql for a job that writes its phase in
  several statements: fills `into` (an array) with the next keys of phase `key` from the
  caller's SELECT, which returns one ordered column (at most v_left rows, NULL: no limit)
  and continues after the previous batch's last key (v_after -> key ->> 0, NULL at the
  start). Then v_seen is their count; v_after -> key becomes the last of them, or "done"
  when the SELECT found fewer than asked; v_more is set while the phase may have more.
#}
{% macro take(key, into, type) %}
    IF v_after -> {{ key | literal }} OPERATOR(pg_catalog.=) '"done"'::jsonb THEN
        {{ into }} := '{}'::{{ type }}[];
        v_seen := 0;
    ELSIF v_left = 0 THEN
        {{ into }} := '{}'::{{ type }}[];
        v_seen := 0;
        v_more := true;
    ELSE
        SELECT coalesce(pg_catalog.array_agg(c.k ORDER BY c.k), '{}'::{{ type }}[]) INTO {{ into }}
          FROM ({{ caller() }}) AS c (k);
        v_seen := pg_catalog.cardinality({{ into }});
        IF v_left IS NULL OR v_seen < v_left THEN
            v_after := v_after || pg_catalog.jsonb_build_object({{ key | literal }}, 'done');
        ELSE
            v_last := pg_catalog.jsonb_build_array({{ into }}[v_seen]);
            v_after := v_after || pg_catalog.jsonb_build_object({{ key | literal }}, v_last);
            v_more := true;
        END IF;
        v_left := v_left - v_seen;
    END IF;
{% endmacro %}
{#
  take() over every user, in id order: `users` into v_ids (uuid[]) after v_from, the
  caller's local holding the previous batch's last id (NULL at the start).
#}
{% macro take_users() %}
{% call take('users', 'v_ids', 'uuid') %}
SELECT u.id FROM {{ app_schema | ident }}.users AS u
                 WHERE v_from IS NULL OR u.id > v_from
                 ORDER BY u.id
                 LIMIT v_left
{% endcall %}
{% endmacro %}
