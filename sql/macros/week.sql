{#
  The week of p_now (docs/rules.md: The week), as DECLARE lines: v_week_start (Monday 00:00 in `timezone`),
  v_week_end (the next Monday 00:00, by local arithmetic: a week is 167 or 169 hours long
  when DST starts or ends in it) and v_week_date (that Monday's date).
#}
{% set js = jobs_schema | ident %}
{% macro week_locals() %}
    v_week_start timestamptz := {{ js }}.week_start(p_now, {{ timezone | literal }});
    v_week_end   timestamptz := pg_catalog.timezone({{ timezone | literal }},
                                   pg_catalog.timezone({{ timezone | literal }}, v_week_start) + interval '7 days');
    v_week_date  date        := pg_catalog.timezone({{ timezone | literal }}, v_week_start)::date;
{% endmacro %}
