{#
  A high-water mark a job keeps in jobs.job_state from one complete run to the next
  (rollup_stats: settled bets; cleanup: soft-deleted posts). Needs locals v_since, v_through
  timestamptz and the frame's v_after, v_more.

  mark_window(job, key, lag, latest): the run's window, fixed by its first batch and carried
  in `next`: v_through = the caller's `latest`, a SELECT of the newest timestamp now in the
  data; v_since = how far back the run looks (NULL without a mark: everything). The lag is
  for rows stamped before the mark whose transaction committed after the run that set it:
  such a row's stamp is its writer's start, less than `lag` before its commit, so it is later
  than that run's moment less `lag`. A run records its moment (`seen`: its now, never later
  than the clock) with the mark, and the next one looks past
      GREATEST(mark - lag, LEAST(mark, seen - lag)):
  past the mark itself once the data has been quiet for `lag` before the run that set it (an
  hourly run after settlements stopped looks at nothing again), past the mark less `lag` at
  most. A mark recorded without `seen` (an older version) is taken as mark - lag.

  mark_advance(job, key, also=none, pending=none): once a real run has nothing left (v_more
  unset), the mark becomes v_through (never moving back), and the keys of `also` (a jsonb
  expression) are recorded beside it. The state's `pending` key (what a run set aside as it
  began, with its now as `at`) goes; its other keys are recorded too if it is this run's (at
  = p_now) and the mark is not ahead of v_through (a run at a later now completed
  meanwhile: what this run saw is not what that mark needs). A run stopped at a limit or
  its time budget leaves them, so the next run looks at the same window again.

  A mark whose job keeps a table (rollup_stats: user_stats) holds only while the table
  still holds what the runs up to the mark wrote. `stamp` is a SELECT of the table's newest
  write (its greatest updated_at, read from an index): mark_advance records it beside the
  mark, and mark_window drops the mark (v_since NULL: everything, as a first run) when the
  table's stamp is now missing or older, i.e. the table was emptied or restored from a
  backup older than the mark. A real run drops it from job_state at once, so that a rebuild
  stopped by the time budget goes on at the next run. The run's `next` then carries
  `rebuild: true`. Needs the local v_stamp timestamptz.
#}
{% set js = jobs_schema | ident %}
{% macro mark_window(job, key, lag, latest, stamp=none) %}
    IF v_after ? 'through' THEN
        v_since := (v_after ->> 'since')::timestamptz;
        v_through := (v_after ->> 'through')::timestamptz;
    ELSE
        SELECT GREATEST(m.mark - {{ lag | interval }},
                        LEAST(m.mark, coalesce(m.seen, m.mark) - {{ lag | interval }})){% if stamp %},
               (s.state ->> 'stamp')::timestamptz{% endif %}
          INTO v_since{% if stamp %}, v_stamp{% endif %}
          FROM {{ js }}.job_state AS s
         CROSS JOIN LATERAL (SELECT (s.state ->> {{ key | literal }})::timestamptz AS mark,
                                    (s.state ->> 'seen')::timestamptz AS seen) AS m
         WHERE s.job_name = {{ job | literal }};
{% if stamp %}
        IF v_since IS NOT NULL AND v_stamp IS NOT NULL
           AND coalesce(({{ stamp }}) < v_stamp, true) THEN
            v_since := NULL;
            IF NOT p_dry_run THEN  -- dropped now, so a rebuild cut short by the time budget goes on next run
                UPDATE {{ js }}.job_state AS s SET state = s.state - {{ key | literal }} - 'stamp' - 'seen'
                 WHERE s.job_name = {{ job | literal }};
            END IF;
            v_after := v_after || pg_catalog.jsonb_build_object('rebuild', true);
        END IF;
{% endif %}
        v_through := ({{ latest }});
        v_after := v_after || pg_catalog.jsonb_build_object('since', v_since, 'through', v_through,
                                                            'seen', LEAST(p_now, pg_catalog.now()));
    END IF;
{% endmacro %}
{% macro mark_advance(job, key, stamp=none, also=none, pending=none) %}
    IF NOT p_dry_run AND NOT v_more AND v_through IS NOT NULL THEN
        INSERT INTO {{ js }}.job_state AS s (job_name, state, updated_at)
        VALUES ({{ job | literal }}, pg_catalog.jsonb_build_object({{ key | literal }}, v_through,
                                                                   'seen', v_after -> 'seen'){% if also %} || ({{ also }}){% endif %}, p_now)
        ON CONFLICT (job_name) DO UPDATE
           SET state = s.state{% if pending %} - {{ pending | literal }}{% endif %} || pg_catalog.jsonb_build_object(
                   {{ key | literal }}, GREATEST((s.state ->> {{ key | literal }})::timestamptz, v_through),
                   'seen', GREATEST((s.state ->> 'seen')::timestamptz, (v_after ->> 'seen')::timestamptz)){% if also %}
                   || ({{ also }}){% endif %}{% if pending %}
                   || CASE WHEN (s.state -> {{ pending | literal }} ->> 'at')::timestamptz = p_now
                            AND v_through >= coalesce((s.state ->> {{ key | literal }})::timestamptz, '-infinity')
                           THEN (s.state -> {{ pending | literal }}) - 'at' ELSE '{}'::jsonb END{% endif %},
               updated_at = EXCLUDED.updated_at;
{% if stamp %}
        UPDATE {{ js }}.job_state AS s
           SET state = s.state || pg_catalog.jsonb_build_object('stamp', ({{ stamp }}))
         WHERE s.job_name = {{ job | literal }};
{% endif %}
    END IF;
{% endmacro %}

{#
  moment_window(job, key, lag, since): for a phase that finds its rows by a time the app
  stamps on them when they change (cleanup: a chat's last_message_at), the previous complete
  run's moment. `since` (a local timestamptz) becomes the moment recorded under `key` in
  jobs.job_state less `lag` (NULL: none recorded, look at everything), fixed by the batch that
  reaches it and carried in `next` under '<key>:since', with this run's moment (its now,
  never later than the clock) under `key`. moment_advance(job, key): once a real run has
  nothing left (v_more unset), that moment is recorded under `key` (never moving back), so
  the next run looks past it less `lag`: a row stamped before it whose transaction committed
  after this run read is still seen.
#}
{% macro moment_window(job, key, lag, since) %}
{% set at = (key ~ ':since') | literal %}
    IF v_after ? {{ at }} THEN
        {{ since }} := (v_after ->> {{ at }})::timestamptz;
    ELSE
        SELECT (s.state ->> {{ key | literal }})::timestamptz - {{ lag | interval }} INTO {{ since }}
          FROM {{ js }}.job_state AS s
         WHERE s.job_name = {{ job | literal }};
{% if caller is defined %}
{{ caller().rstrip() }}
{% endif %}
        v_after := v_after || pg_catalog.jsonb_build_object({{ at }}, {{ since }},
                                                            {{ key | literal }}, LEAST(p_now, pg_catalog.now()));
    END IF;
{% endmacro %}
{% macro moment_advance(job, key) %}
    IF NOT p_dry_run AND NOT v_more AND v_after ? {{ key | literal }} THEN
        INSERT INTO {{ js }}.job_state AS s (job_name, state, updated_at)
        VALUES ({{ job | literal }}, pg_catalog.jsonb_build_object({{ key | literal }}, v_after -> {{ key | literal }}), p_now)
        ON CONFLICT (job_name) DO UPDATE
           SET state = s.state || pg_catalog.jsonb_build_object(
                   {{ key | literal }}, GREATEST((s.state ->> {{ key | literal }})::timestamptz,
                                                 (v_after ->> {{ key | literal }})::timestamptz)),
               updated_at = EXCLUDED.updated_at;
    END IF;
{% endmacro %}
