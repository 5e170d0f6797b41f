{#
  select_apply whose write is a hard delete: the candidates that still match the rule when
  the delete reaches them are deleted (a row the app changed since the candidates were read
  is checked again, as it is now). The rule is written once, for the dry run's count and
  the real run's DELETE alike. `record`, `ids` and `source` as select_apply's. The write reaches the
  candidates as soft_delete.sql's does, for the reasons it gives (Citus too). heap=true: a
  backlog is deleted in one pass over the heap instead (macros/heap_pass.sql). Import with
  context.
#}
{% from "macros/select_apply.sql" import select_apply %}
{% from "macros/heap_pass.sql" import heap_pass with context %}
{% from "macros/position.sql" import columns, past, walk %}
{% macro hard_delete(key, table, rule, keys, record=true, ids='v_ids', heap=false, source=none) %}
{% set walk %}
{% call select_apply(key, table, rule, keys, record=record, ids=ids, source=source) %}
        w AS (
{% if citus %}
            DELETE FROM {{ table }} AS t
             USING c
             WHERE t.id = c.id AND ({{ rule }})
{% else %}
            DELETE FROM {{ table }} AS t
             WHERE t.id = ANY (ARRAY(SELECT c.id FROM c)) AND (SELECT {{ rule }})
{% endif %}
            RETURNING t.id)
{% endcall %}
{% endset %}
{% if heap %}
{% call heap_pass(key, table, rule, keys, 'DELETE FROM ' ~ table ~ ' AS t', record, ids) %}
{{- walk -}}
{% endcall %}
{% else %}
{{- walk -}}
{% endif %}
{% endmacro %}

{#
  range_delete(key, table, rule, keys, record): a hard delete batch by batch over ranges of
  the rule's keys, for a rule that an index on `keys` serves (cleanup's retention: rows
  older than a cut, keys (created_at, id)). A batch first finds its last row, the v_left-th
  due row after its position in key order (none when fewer are due), then deletes every due
  row between its position and that row in one statement with both ends as constants, so
  the planner reads the rule's index range and visits the due rows' pages once each, in
  physical order (a bitmap scan), as the bare statement does: no candidate list is kept, no
  row is looked up again by key (bench/README.md: cleanup). The delete checks the rule as
  it reaches each row. A row stamped into the batch's range between the two statements (a
  restore writing old rows) would make the delete exceed v_left: the batch then fails with
  40001, which run_job retries, so that a batch never deletes more than asked. v_n is the
  rows deleted; the ids are not collected. On Citus: hard_delete.
#}
{% macro range_delete(key, table, rule, keys, record=true, ids='v_ids') %}
{% if citus %}
{{ hard_delete(key, table, rule, keys, record=record, ids=ids) }}
{% else %}
{% set after %}(v_after -> {{ key | literal }} IS NULL OR {{ past(key, keys) }}){% endset %}
{% set through %}({{ columns(keys) }}) <= ({% for _, type in keys %}(v_last ->> {{ loop.index0 }})::{{ type }}{{ ', ' if not loop.last }}{% endfor %}){% endset %}
    -- {{ key }}, by ranges of its keys
    v_n := 0;
{% call walk(key, ids) %}
        v_last := NULL;
        IF v_left IS NOT NULL THEN
            -- (the keys made JSON outside the skip: not for every row skipped)
            SELECT pg_catalog.jsonb_build_array({{ columns(keys, 'l') }})
              INTO v_last
              FROM (SELECT {{ columns(keys) }}
                      FROM {{ table }} AS t
                     WHERE ({{ rule }}) AND {{ after }}
                     ORDER BY {{ columns(keys) }}
                    OFFSET v_left - 1 LIMIT 1) AS l;
        END IF;
        IF p_dry_run THEN
            SELECT pg_catalog.count(*) INTO v_seen
              FROM {{ table }} AS t
             WHERE ({{ rule }}) AND {{ after }}
               AND (v_last IS NULL OR {{ through }});
        ELSE
            DELETE FROM {{ table }} AS t
             WHERE ({{ rule }}) AND {{ after }}
               AND (v_last IS NULL OR {{ through }});
            GET DIAGNOSTICS v_seen = ROW_COUNT;
            IF v_seen > v_left THEN
                RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
                    MESSAGE = pg_catalog.format('%s: %s rows came due inside the batch''s range while it ran; '
                                                'the batch is rolled back (run_job retries it)',
                                                {{ key | literal }}, v_seen - v_left);
            END IF;
        END IF;
        v_n := v_seen;
        IF v_last IS NOT NULL THEN  -- the phase goes on after its last row, however many the delete found
            v_seen := v_left;
        END IF;
{% endcall %}
{% if record %}
    v_details := v_details || pg_catalog.jsonb_build_object({{ key | literal }}, v_n);
{% endif %}
{% endif %}
{% endmacro %}
