{#
  The one place a job's rule is written for both paths. The candidates are the rows the
  rule matches, oldest first by `order`, at most v_left of them (NULL: no limit).
  A dry run collects their keys into v_ids. A real run runs the caller's write as CTEs
  after `c` (the candidates): the caller's last CTE must be named `w` and return the keys
  of the rows it wrote, which land in v_ids. Either way v_n is their count; it is taken
  from v_left and, unless record=false (the caller totals it itself), added under `key` to
  v_details.
  Needs the locals: v_ids <key type>[], v_n bigint, v_left bigint, v_details jsonb.
#}
{% macro select_apply(key, table, rule, order, pk='id', record=true) %}
{% set candidates %}
SELECT t.{{ pk }}
              FROM {{ table }} AS t
             WHERE ({{ rule }})
             ORDER BY {{ order }}
             LIMIT v_left
{%- endset %}
    -- {{ key }}
    IF p_dry_run THEN
        SELECT coalesce(pg_catalog.array_agg(c.{{ pk }}), '{}')
          INTO v_ids
          FROM ({{ candidates }}) AS c;
    ELSE
        WITH c AS ({{ candidates }}),
{{ caller() }}
        SELECT coalesce(pg_catalog.array_agg(w.{{ pk }}), '{}')
          INTO v_ids
          FROM w;
    END IF;
    v_n := pg_catalog.cardinality(v_ids);
{% if record %}
    v_details := v_details || pg_catalog.jsonb_build_object({{ key | literal }}, v_n);
{% endif %}
    v_left := v_left - v_n;
{% endmacro %}
