{#
  Health, readable by any SQL monitor (postgres_exporter's custom queries, a Grafana panel,
  a Supabase SQL snippet): `SELECT * FROM jobs.job_health`.
#}
{% set js = jobs_schema | ident %}
-- Dropped first: CREATE OR REPLACE VIEW cannot rename or reorder columns of an older view.
DROP VIEW IF EXISTS {{ js }}.job_health;
{#
  One state per job, decided here and nowhere else (`deployer status`, its --json and the
  dashboard show it as it is). The first that holds, in this order:

    disabled     the manifest disables it
    blind        row security hides rows from the owner role: every run refuses
    failing      its last run failed, or was abandoned (its backend is gone)
    overdue      a fire of its schedule was due over overdue_grace ago and no run started
    unscheduled  it should be in pg_cron and is not there, or is paused (active = false)
    drifted      a routine or its registry row was changed by hand, or pg_cron's entry has
                 another schedule or command (the run_as role is in the command)
    running      a run is in progress (its backend alive)
    manual       deployed without a schedule on purpose (`deploy --no-schedule`): runs by hand
    never ran    scheduled, no run yet
    healthy

  cron_state says what pg_cron holds for it: scheduled, missing, paused, differs, `not
  scheduled` (nothing is wanted there), or unknown (pg_cron lives in another database,
  which this view cannot read; `deployer status` reads it there).
#}
CREATE VIEW {{ js }}.job_health AS
WITH drifted AS MATERIALIZED (SELECT d.job_name FROM {{ js }}.catalog_drift() AS d),
     crons AS MATERIALIZED (SELECT c.jobid, c.jobname, c.schedule, c.command, c.active FROM {{ js }}.cron_jobs() AS c)
SELECT r.job_name,
       r.description,
       r.schedule,
       r.enabled,
       r.scheduled_at IS NOT NULL                          AS scheduled,
       r.scheduled_at,
       last.id                                             AS last_execution_id,
       last.status                                         AS last_status,
       last.executed_at                                    AS last_run_at,
       last.finished_at                                    AS last_finished_at,
       last.duration_ms                                    AS last_duration_ms,
       last.affected_count                                 AS last_affected,
       last.error                                          AS last_error,
       last.sqlstate                                       AS last_sqlstate,
       ok.executed_at                                      AS last_success_at,
       coalesce(fails.n, 0)                                AS consecutive_failures,
       running.since                                       AS running_since,
       pg_catalog.now() - running.since                    AS running_for,
       {{ js }}.cron_fire(r.schedule, pg_catalog.now())    AS next_run_at,
       due.fire                                            AS expected_run_at,
       r.enabled AND late.overdue                          AS overdue,
       last.id IS NULL                                     AS never_ran,
       coalesce(running.lost, 0)                           AS abandoned_runs,
       coalesce(drift.n, 0)                                AS drift_count,
       blind.tables                                        AS blind_tables,
       cron.state                                          AS cron_state,
       CASE
           WHEN NOT r.enabled THEN 'disabled'
           -- Row security hides rows from the owner: every run fails (the job functions
           -- refuse), and would see nothing if they did not.
           WHEN blind.tables <> '{}'::text[] THEN 'blind'
           -- A `running` row whose backend is gone was abandoned: as good as failed.
           WHEN last.status IN ('failed', 'abandoned') OR (last.status = 'running' AND running.since IS NULL)
               THEN 'failing'
           WHEN late.overdue THEN 'overdue'
           WHEN cron.state IN ('missing', 'paused') THEN 'unscheduled'
           WHEN coalesce(drift.n, 0) > 0 OR cron.state = 'differs' THEN 'drifted'
           WHEN running.since IS NOT NULL THEN 'running'
           WHEN cron.state = 'not scheduled' THEN 'manual'
           WHEN last.id IS NULL THEN 'never ran'
           ELSE 'healthy'
       END                                                 AS state
  FROM {{ js }}.job_registry AS r
  CROSS JOIN (SELECT {{ js }}.blind_spots() AS tables) AS blind
  -- pg_cron's entry of the job (the oldest of its name, where there are several).
  LEFT JOIN LATERAL (
        SELECT c.schedule, c.command, c.active FROM crons AS c
         WHERE c.jobname = {{ (jobs_schema ~ '.') | literal }} || r.job_name
         ORDER BY c.jobid LIMIT 1) AS entry ON true
  CROSS JOIN LATERAL (
        SELECT CASE
                   WHEN r.cron_command IS NULL OR NOT r.enabled THEN 'not scheduled'
                   -- Looked up in the catalog: to_regclass raises for a reader without USAGE on
                   -- pg_cron's schema (the monitor, where pg_cron lives in this database).
                   WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class AS t
                                      JOIN pg_catalog.pg_namespace AS n ON n.oid = t.relnamespace
                                     WHERE n.nspname = 'cron' AND t.relname = 'job') THEN 'unknown'
                   WHEN entry.command IS NULL THEN 'missing'
                   WHEN NOT entry.active THEN 'paused'
                   WHEN entry.schedule <> r.schedule OR entry.command <> r.cron_command THEN 'differs'
                   ELSE 'scheduled'
               END AS state) AS cron
  -- The latest run that did something (skipped runs aside), and the latest of any kind.
  LEFT JOIN LATERAL (
        SELECT e.* FROM {{ js }}.job_executions AS e
         WHERE e.job_name = r.job_name AND e.status <> 'skipped'
         ORDER BY e.executed_at DESC, e.id DESC LIMIT 1) AS last ON true
  LEFT JOIN LATERAL (
        SELECT e.executed_at FROM {{ js }}.job_executions AS e
         WHERE e.job_name = r.job_name
         ORDER BY e.executed_at DESC, e.id DESC LIMIT 1) AS latest ON true
  LEFT JOIN LATERAL (
        SELECT e.executed_at FROM {{ js }}.job_executions AS e
         WHERE e.job_name = r.job_name AND e.status IN ('succeeded', 'partial')
         ORDER BY e.executed_at DESC, e.id DESC LIMIT 1) AS ok ON true
  -- Failures since the last success, counted up to 10000 (a job failing every few seconds
  -- for weeks would otherwise make every read of the view cost its whole history).
  LEFT JOIN LATERAL (
        SELECT pg_catalog.count(*) AS n FROM (
            SELECT 1 FROM {{ js }}.job_executions AS e
             WHERE e.job_name = r.job_name AND e.status IN ('failed', 'abandoned')
               AND e.executed_at > coalesce(ok.executed_at, '-infinity')
             ORDER BY e.executed_at LIMIT 10000) AS f) AS fails ON true
  -- Runs in progress and abandoned ones. A `running` row is alive while its backend is
  -- (backend_alive). Abandoned: marked so by cleanup, or `running` with its backend gone.
  LEFT JOIN LATERAL (
        SELECT pg_catalog.max(e.executed_at) FILTER (WHERE e.alive) AS since,
               pg_catalog.count(*) FILTER (WHERE NOT e.alive)     AS lost
          FROM (SELECT x.executed_at,
                       x.status = 'running'
                       AND {{ js }}.backend_alive(x.backend_pid, x.backend_start, x.executed_at) AS alive
                  FROM {{ js }}.job_executions AS x
                 WHERE x.job_name = r.job_name AND x.status IN ('running', 'abandoned')) AS e) AS running ON true
  -- The last fire due by now, less the grace a run gets to start.
  LEFT JOIN LATERAL (
        SELECT {{ js }}.cron_fire(r.schedule, pg_catalog.now() - {{ overdue_grace | literal }}::interval, true)
               AS fire) AS due ON true
  -- Overdue: that fire came after the job was scheduled (and pg_cron still has it, active),
  -- and no run started since.
  CROSS JOIN LATERAL (
        SELECT coalesce(r.scheduled_at IS NOT NULL AND cron.state IN ('scheduled', 'differs', 'unknown')
                        AND due.fire > r.scheduled_at AND running.since IS NULL
                        AND (latest.executed_at IS NULL OR latest.executed_at < due.fire), false)
               AS overdue) AS late
  -- catalog_drift() once for all jobs; the framework's objects (no job of their own) are
  -- every job's.
  LEFT JOIN LATERAL (
        SELECT pg_catalog.count(*) FILTER (WHERE d.job_name = r.job_name OR d.job_name IS NULL) AS n
          FROM drifted AS d) AS drift ON true;
REVOKE ALL ON {{ js }}.job_health FROM PUBLIC;
COMMENT ON VIEW {{ js }}.job_health IS
    'One row per deployed job: schedule, last run and success, consecutive failures, running now, next and '
    'expected run, overdue, never ran, abandoned runs, drift, the tables row security hides from the job set''s owner '
    '(blind_tables), what pg_cron holds for it (cron_state), and one state label (see 50_job_health.sql for their order)';
