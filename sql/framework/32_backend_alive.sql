{#
  Whether a run's backend is alive: the one answer cleanup (which marks a dead run
  `abandoned`) and job_health (which shows a live one `running`) both give.
#}
{% set js = jobs_schema | ident %}
CREATE OR REPLACE FUNCTION {{ js }}.backend_alive(
    p_pid           integer,
    p_backend_start timestamptz,
    p_executed_at   timestamptz
)
RETURNS boolean
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* A backend with PID p_pid is in pg_stat_activity, and it is the run's: a PID is reused,
       a (PID, start) pair is not, so its start is p_backend_start. Where the caller may not
       see its start (another role's backend, without pg_read_all_stats) the PID alone
       tells: better a dead run shown running than a live one called abandoned. A run
       recorded without its backend's start (by a release before backend_start) is the
       backend's if that started before the run (p_executed_at). */
    SELECT EXISTS (
        SELECT FROM pg_catalog.pg_stat_activity AS a
         WHERE a.pid = p_pid
           AND (a.backend_start = p_backend_start OR a.backend_start IS NULL
                OR (p_backend_start IS NULL AND a.backend_start <= p_executed_at)))
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.backend_alive(integer, timestamptz, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.backend_alive(integer, timestamptz, timestamptz) IS
    'Whether the backend that opened a run (its PID and start) is alive: cleanup and job_health ask it';
