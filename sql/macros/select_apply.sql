{#
  The one place a job's rule is written for both paths, and where a run keeps its place.

  A phase `key` walks the rows of `table` that match `rule` in the order of `keys` (a list
  of (column, SQL type) pairs whose last one is unique, e.g. [('expires_at', 'timestamptz'),
  ('id', 'uuid')]), at most v_left of them (NULL: no limit), starting after the position
  v_after -> key that the previous batch of the same run left (docs/rules.md: The runner: a batch costs what
  its rows cost instead of searching again from the start). A dry run collects the
  candidates' `pk` into v_ids. A real run runs the caller's write as CTEs after `c` (the
  candidates); the caller's last CTE must be named `w` and return the keys of the rows it
  wrote (its WHERE rechecks what the app may have changed since), which land in v_ids.
  Either way v_n is their count and, unless record=false (the caller totals it itself), is
  added under `key` to v_details.

  Position: v_after -> key is absent (start), the last candidate's keys as a JSON array
  (continue after it), or "done" (fewer candidates than asked: nothing left in this run).
  A phase that may have more sets v_more; jobs return `next` = v_after while v_more is
  set (macros/job_result.sql) and the runner hands it to the next batch.

  Needs the locals the job_function frame declares: v_ids <pk type>[] (or the array named
  by `ids`, for a job whose phases have keys of different types), v_n, v_seen, v_left bigint,
  v_details, v_after, v_last jsonb, v_more boolean.
#}
{% macro select_apply(key, table, rule, keys, pk='id', record=true, ids='v_ids') %}
{% set position = 'v_after -> ' ~ (key | literal) %}
{% macro candidates(after) -%}
SELECT {% for col, _ in keys %}t.{{ col }}{{ ', ' if not loop.last }}{% endfor %}

              FROM {{ table }} AS t
             WHERE ({{ rule }})
{% if after %}
               AND ({% for col, _ in keys %}t.{{ col }}{{ ', ' if not loop.last }}{% endfor %})
                 > ({% for _, type in keys %}({{ position }} ->> {{ loop.index0 }})::{{ type }}{{ ', ' if not loop.last }}{% endfor %})
{% endif %}
             ORDER BY {% for col, _ in keys %}t.{{ col }}{{ ', ' if not loop.last }}{% endfor %}

             LIMIT v_left
{%- endmacro %}
{% set last_key -%}
(SELECT pg_catalog.jsonb_build_array({% for col, _ in keys %}c.{{ col }}{{ ', ' if not loop.last }}{% endfor %})
                 FROM c ORDER BY {% for col, _ in keys %}c.{{ col }} DESC{{ ', ' if not loop.last }}{% endfor %} LIMIT 1)
{%- endset %}
    -- {{ key }}
    {{ ids }} := '{}';
    v_seen := 0;
    IF {{ position }} OPERATOR(pg_catalog.=) '"done"'::jsonb THEN
        NULL;
    ELSIF v_left = 0 THEN
        v_more := true;
    ELSE
{% for after in [false, true] %}
        {{ 'IF' if not after else 'ELSIF' }} p_dry_run AND {{ position }} IS {{ 'NOT ' if after }}NULL THEN
            WITH c AS ({{ candidates(after) }})
            SELECT coalesce(pg_catalog.array_agg(c.{{ pk }}), '{}'), pg_catalog.count(*), {{ last_key }}
              INTO {{ ids }}, v_seen, v_last
              FROM c;
        ELSIF {{ position }} IS {{ 'NOT ' if after }}NULL THEN
            WITH c AS ({{ candidates(after) }}),
{{ caller() }}
            SELECT coalesce(pg_catalog.array_agg(w.{{ pk }}), '{}'), (SELECT pg_catalog.count(*) FROM c), {{ last_key }}
              INTO {{ ids }}, v_seen, v_last
              FROM w;
{% endfor %}
        END IF;
        IF v_left IS NULL OR v_seen < v_left THEN
            v_after := v_after || pg_catalog.jsonb_build_object({{ key | literal }}, 'done');
        ELSE
            v_after := v_after || pg_catalog.jsonb_build_object({{ key | literal }}, v_last);
            v_more := true;
        END IF;
        v_left := v_left - v_seen;
    END IF;
    v_n := pg_catalog.cardinality({{ ids }});
{% if record %}
    v_details := v_details || pg_catalog.jsonb_build_object({{ key | literal }}, v_n);
{% endif %}
{% endmacro %}
