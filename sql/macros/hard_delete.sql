{#
  select_apply whose write is a hard delete: the candidates that still match the rule when
  the delete reaches them are deleted (a row the app changed since the candidates were read
  is checked again, as it is now). The rule is written once, for the dry run's count and
  the real run's DELETE alike. `record` and `ids` as select_apply's. The write reaches the
  candidates as soft_delete.sql's does, for the reasons it gives (Citus too). heap=true: a
  backlog is deleted in one pass over the heap instead (macros/heap_pass.sql). Import with
  context.
#}
{% from "macros/select_apply.sql" import select_apply %}
{% from "macros/heap_pass.sql" import heap_pass with context %}
{% macro hard_delete(key, table, rule, keys, record=true, ids='v_ids', heap=false) %}
{% set walk %}
{% call select_apply(key, table, rule, keys, record=record, ids=ids) %}
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
