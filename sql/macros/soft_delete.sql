{#
  select_apply whose write is a soft delete: deleted_at = p_now on the candidates that
  still match the rule when the write reaches them (a row the app changed since the
  candidates were read is checked again, as it is now). `record`, `source` as select_apply's.

  How the write reaches the candidates is chosen for the planner (bench/README.md:
  unanalyzed, Goals):
  - by `id = ANY` of the candidates' keys, which only the primary key serves: joined to the
    candidates instead, the write was planned as a hash of the whole table for every batch
    (cleanup's notifications), so each batch re-read the rows the later ones would delete;
  - the recheck is a subquery, `(SELECT rule)`, so that the planner cannot read it as the
    predicate of a partial index on the rule (expire_content's indexes are): without
    statistics (after a bulk load or a restore) it estimates such an index nearly empty,
    and walked all of it for every batch's write.
  The subquery is evaluated on the candidates only, and again on a row's new version when
  the app changed it while the write waited (tests/test_expire_content.py).
  On Citus, which runs neither the correlated subquery nor the array of a CTE in a
  distributed write, the write joins the candidates and rechecks the rule as it is
  (docs/citus.md). Import with context: `citus` is the deploy's.

  heap=true: a backlog is written in one pass over the heap instead (macros/heap_pass.sql).
#}
{% from "macros/select_apply.sql" import select_apply %}
{% from "macros/heap_pass.sql" import heap_pass with context %}
{% macro soft_delete(key, table, rule, keys, record=true, source=none, heap=false) %}
{% set walk %}
{% call select_apply(key, table, rule, keys, record=record, source=source) %}
        w AS (
{% if citus %}
            UPDATE {{ table }} AS t SET deleted_at = p_now
              FROM c
             WHERE t.id = c.id AND ({{ rule }})
{% else %}
            UPDATE {{ table }} AS t SET deleted_at = p_now
             WHERE t.id = ANY (ARRAY(SELECT c.id FROM c)) AND (SELECT {{ rule }})
{% endif %}
            RETURNING t.id)
{% endcall %}
{% endset %}
{% if heap %}
{% call heap_pass(key, table, rule, keys, 'UPDATE ' ~ table ~ ' AS t SET deleted_at = p_now', record) %}
{{- walk -}}
{% endcall %}
{% else %}
{{- walk -}}
{% endif %}
{% endmacro %}
