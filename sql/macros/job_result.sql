{#
  A job function's RETURN (docs/rules.md: The runner): {affected, details, next}. `next` is the position a
  following batch continues after (select_apply sets v_after and v_more), NULL when the
  run has nothing left; callers of the 3-argument form may ignore it.
#}
{% macro job_result(affected, details='v_details') %}
    RETURN pg_catalog.jsonb_build_object(
        'affected', {{ affected }},
        'details', {{ details }},
        'next', CASE WHEN v_more THEN v_after END);
{% endmacro %}
