{#
  The one place a job's rule is written for both paths. Selects the ids the rule matches
  (oldest first by `order`, at most v_left of them: NULL means no limit) into v_ids; a real
  run then applies the write the caller gives (which must use v_ids and should re-check
  the rule's cheap part) and counts it with ROW_COUNT, a dry run counts the ids. Adds the
  count under `key` to v_details and takes it from v_left.
  Needs the locals: v_ids <type>[], v_n bigint, v_left bigint, v_details jsonb.
#}
{% macro select_apply(key, table, rule, order, pk='id') %}
    -- {{ key }}
    SELECT coalesce(pg_catalog.array_agg(c.{{ pk }}), '{}')
      INTO v_ids
      FROM (SELECT t.{{ pk }}
              FROM {{ table }} AS t
             WHERE ({{ rule }})
             ORDER BY {{ order }}
             LIMIT v_left) AS c;
    IF p_dry_run THEN
        v_n := pg_catalog.cardinality(v_ids);
    ELSE
{{ caller() }}
        GET DIAGNOSTICS v_n = ROW_COUNT;
    END IF;
    v_details := v_details || pg_catalog.jsonb_build_object({{ key | literal }}, v_n);
    v_left := v_left - v_n;
{% endmacro %}
