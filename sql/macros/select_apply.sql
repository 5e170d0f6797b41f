{#
  The one place a job's rule is written for both paths.

  A phase `key` walks the rows of `table` that match `rule` in the order of `keys` (a list
  of (column, SQL type) pairs whose last one is unique, e.g. [('expires_at', 'timestamptz'),
  ('id', 'uuid')]), batch by batch by the position protocol of macros/position.sql. A dry
  run collects the candidates' `pk` into v_ids. A real run runs the caller's write as CTEs
  after `c` (the candidates); the caller's last CTE must be named `w` and return the keys of
  the rows it wrote (its WHERE rechecks what the app may have changed since), which land in
  v_ids. Either way v_n is their count and, unless record=false (the caller totals it
  itself), is added under `key` to v_details.

  `source` (optional) is where the candidates are read from instead of `table`: a subquery
  with the table's columns (and the keys), for a rule whose rows are found from another table
  (expire_content: picks from the games that started). The rule is checked on it too, and
  again by the write on `table`.

  Needs the locals the job_function frame declares: v_ids <pk type>[] (or the array named
  by `ids`, for a job whose phases have keys of different types), v_n, v_seen, v_left bigint,
  v_details, v_after, v_last jsonb, v_more boolean.
#}
{% from "macros/position.sql" import columns, positions, walk %}
{% macro select_apply(key, table, rule, keys, pk='id', record=true, ids='v_ids', source=none) %}
{% set at = 'v_after -> ' ~ (key | literal) %}
{% set write = caller() %}
{% macro candidates(after) -%}
SELECT {{ columns(keys) }}
              FROM {{ source or table }} AS t
             WHERE ({{ rule }})
{% if after %}
               AND ({{ columns(keys) }})
                 > ({{ positions(key, keys) }})
{% endif %}
             ORDER BY {{ columns(keys) }}
             LIMIT v_left
{%- endmacro %}
{% set last_key -%}
(SELECT pg_catalog.jsonb_build_array({{ columns(keys, 'c') }})
                 FROM c ORDER BY {% for col, _ in keys %}c.{{ col }} DESC{{ ', ' if not loop.last }}{% endfor %} LIMIT 1)
{%- endset %}
    -- {{ key }}
{% call walk(key, ids) %}
{% for after in [false, true] %}
        {{ 'IF' if not after else 'ELSIF' }} p_dry_run AND {{ at }} IS {{ 'NOT ' if after }}NULL THEN
            WITH c AS ({{ candidates(after) }})
            SELECT coalesce(pg_catalog.array_agg(c.{{ pk }}), '{}'), pg_catalog.count(*), {{ last_key }}
              INTO {{ ids }}, v_seen, v_last
              FROM c;
        ELSIF {{ at }} IS {{ 'NOT ' if after }}NULL THEN
            WITH c AS ({{ candidates(after) }}),
{{ write.rstrip() }}
            SELECT coalesce(pg_catalog.array_agg(w.{{ pk }}), '{}'), (SELECT pg_catalog.count(*) FROM c), {{ last_key }}
              INTO {{ ids }}, v_seen, v_last
              FROM w;
{% endfor %}
        END IF;
{% endcall %}
    v_n := pg_catalog.cardinality({{ ids }});
{% if record %}
    v_details := v_details || pg_catalog.jsonb_build_object({{ key | literal }}, v_n);
{% endif %}
{% endmacro %}
