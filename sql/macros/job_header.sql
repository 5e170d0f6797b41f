{#
  What every job function starts with: a guard on p_limit. The runner has its own
  guards (advisory lock, standby) before it calls a job.
#}
{% macro job_header() %}
    IF p_limit IS NOT NULL AND p_limit < 0 THEN
        RAISE EXCEPTION 'p_limit must be >= 0, got %', p_limit USING ERRCODE = '22023';
    END IF;
{% endmacro %}
