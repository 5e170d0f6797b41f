{#
  A phase of a job that writes it in several statements: fills `into` (an array) with the
  next keys of phase `key` from the caller's SELECT, which returns one ordered column (at
  most v_left rows) and continues after position(key, type) of macros/position.sql, whose
  protocol it follows. Then v_seen is their count.
#}
{% from "macros/position.sql" import walk %}
{% macro take(key, into, type) %}
{% set select = caller() %}
{% call walk(key, into) %}
        SELECT coalesce(pg_catalog.array_agg(c.k ORDER BY c.k), '{}'::{{ type }}[]) INTO {{ into }}
          FROM ({{ select }}) AS c (k);
        v_seen := pg_catalog.cardinality({{ into }});
        v_last := pg_catalog.jsonb_build_array({{ into }}[v_seen]);
{% endcall %}
{% endmacro %}
{#
  take() over every user, in id order: `users` into v_ids (uuid[]) after v_from, the
  caller's local holding position('users', 'uuid').
#}
{% macro take_users() %}
{% call take('users', 'v_ids', 'uuid') %}
SELECT u.id FROM {{ app_schema | ident }}.users AS u
                 WHERE v_from IS NULL OR u.id > v_from
                 ORDER BY u.id
                 LIMIT v_left
{% endcall %}
{% endmacro %}
