{#
  select_apply whose write is a soft delete: deleted_at = p_now on the candidates that
  still match the rule when the write reaches them (a row the app changed since the
  candidates were read is checked again, as it is now). `record`, `source` as select_apply's.
#}
{% from "macros/select_apply.sql" import select_apply %}
{% macro soft_delete(key, table, rule, keys, record=true, source=none) %}
{% call select_apply(key, table, rule, keys, record=record, source=source) %}
        w AS (
            UPDATE {{ table }} AS t SET deleted_at = p_now
              FROM c
             WHERE t.id = c.id AND ({{ rule }})
            RETURNING t.id)
{% endcall %}
{% endmacro %}
