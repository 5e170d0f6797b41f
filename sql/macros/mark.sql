{#
  A high-water mark a job keeps in jobs.job_state from one complete run to the next
  (rollup_stats: settled bets; cleanup: soft-deleted posts). Needs locals v_since, v_through
  timestamptz and the frame's v_after, v_more.

  mark_window(job, key, lag, latest): the run's window, fixed by its first batch and carried
  in `next`: v_since = the mark less `lag` (NULL without a mark: everything), v_through = the
  caller's `latest`, a SELECT of the newest timestamp now in the data.

  mark_advance(job, key): once a real run has nothing left (v_more unset), the mark becomes
  v_through (never moving back). A run stopped at a limit or its time budget leaves it, so
  the next run looks at the same window again.
#}
{% set js = jobs_schema | ident %}
{% macro mark_window(job, key, lag, latest) %}
    IF v_after ? 'through' THEN
        v_since := (v_after ->> 'since')::timestamptz;
        v_through := (v_after ->> 'through')::timestamptz;
    ELSE
        SELECT (s.state ->> {{ key | literal }})::timestamptz - {{ lag | interval }} INTO v_since
          FROM {{ js }}.job_state AS s WHERE s.job_name = {{ job | literal }};
        v_through := ({{ latest }});
        v_after := v_after || pg_catalog.jsonb_build_object('since', v_since, 'through', v_through);
    END IF;
{% endmacro %}
{% macro mark_advance(job, key) %}
    IF NOT p_dry_run AND NOT v_more AND v_through IS NOT NULL THEN
        INSERT INTO {{ js }}.job_state AS s (job_name, state, updated_at)
        VALUES ({{ job | literal }}, pg_catalog.jsonb_build_object({{ key | literal }}, v_through), p_now)
        ON CONFLICT (job_name) DO UPDATE
           SET state = s.state || pg_catalog.jsonb_build_object({{ key | literal }}, GREATEST(
                   (s.state ->> {{ key | literal }})::timestamptz, v_through)),
               updated_at = EXCLUDED.updated_at;
    END IF;
{% endmacro %}
