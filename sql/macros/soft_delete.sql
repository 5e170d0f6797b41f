{#
  select_apply whose write is a soft delete: deleted_at = p_now on the selected rows
  that are still not deleted.
#}
{% from "macros/select_apply.sql" import select_apply %}
{% macro soft_delete(key, table, rule, order) %}
{% call select_apply(key, table, rule, order) %}
        UPDATE {{ table }} AS t SET deleted_at = p_now
         WHERE t.id = ANY (v_ids) AND t.deleted_at IS NULL;
{% endcall %}
{% endmacro %}
