{#
  Health and drift, readable by any SQL monitor (postgres_exporter's custom queries, a
  Grafana panel, a Supabase SQL snippet): `SELECT * FROM jobs.job_health`.
  unit_catalog() is what the deployer records of each unit it installs (in
  deployed_objects.catalog); catalog_drift() compares that record with the catalog now, so
  a function edited by hand, dropped, or added beside the deployer's is seen from inside the
  database, without the code that rendered it.
#}
{% set js = jobs_schema | ident %}
CREATE OR REPLACE FUNCTION {{ js }}.unit_catalog(
    p_unit     text,
    p_routines text[]
)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* For a registry unit ('registry/<job>'): {"registry": md5 of the row, updated_at and
       scheduled_at aside}. Otherwise {"routines": {signature: md5 of pg_get_functiondef}}
       for the job set's routines named p_routines. */
    SELECT CASE
        WHEN pg_catalog.starts_with(p_unit, 'registry/') THEN pg_catalog.jsonb_build_object(
            'registry', (SELECT pg_catalog.md5(ROW(r.job_name, r.description, r.schedule, r.enabled, r.batch_size,
                                                   r.batch_time, r.min_batch_size, r.max_batch_size, r.time_budget,
                                                   r.lock_timeout, r.max_retries, r.retry_backoff_ms, r.confirm,
                                                   r.run_after)::text)
                           FROM {{ js }}.job_registry AS r
                          WHERE r.job_name = pg_catalog.substr(p_unit, 10)))
        ELSE pg_catalog.jsonb_build_object('routines', coalesce((
            SELECT pg_catalog.jsonb_object_agg(p.oid::pg_catalog.regprocedure::text,
                                               pg_catalog.md5(pg_catalog.pg_get_functiondef(p.oid)))
              FROM pg_catalog.pg_proc AS p
             WHERE p.pronamespace = {{ jobs_schema | literal }}::pg_catalog.regnamespace
               AND p.proname = ANY (p_routines)), '{}'::jsonb))
    END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.unit_catalog(text, text[]) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.unit_catalog(text, text[]) IS
    'What a deployed unit left in the catalog: checksums of its routines, or of its registry row';

-- SECURITY DEFINER: job_health calls it for whoever reads the view, and a monitor that may
-- read the view must not need the registry and deployed_objects themselves. It takes no
-- argument, reads only, and pins its search_path.
CREATE OR REPLACE FUNCTION {{ js }}.catalog_drift()
RETURNS TABLE (unit text, job_name text, object text, kind text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* Every difference between what the deployer installed and the catalog now:
       'changed by hand', 'missing', or 'extra' (a routine or registry row the deployer did
       not install). Units deployed before this was recorded (catalog NULL) are not judged. */
    WITH units AS (
        SELECT o.unit, o.catalog,
               CASE WHEN pg_catalog.starts_with(o.unit, 'registry/') THEN pg_catalog.substr(o.unit, 10)
                    WHEN pg_catalog.starts_with(o.unit, 'jobs/')
                        THEN pg_catalog.regexp_replace(pg_catalog.substr(o.unit, 6), '\.sql$', '')
               END AS job_name
          FROM {{ js }}.deployed_objects AS o
         WHERE o.catalog IS NOT NULL
    ), recorded AS (
        SELECT u.unit, u.job_name, r.key AS signature, r.value AS md5
          FROM units AS u
         CROSS JOIN LATERAL pg_catalog.jsonb_each_text(u.catalog OPERATOR(pg_catalog.->) 'routines') AS r
    )
    SELECT r.unit, r.job_name, r.signature,
           CASE WHEN p.oid IS NULL THEN 'missing' ELSE 'changed by hand' END
      FROM recorded AS r
      LEFT JOIN pg_catalog.pg_proc AS p
        ON p.oid = pg_catalog.to_regprocedure(r.signature)
       AND p.pronamespace = {{ jobs_schema | literal }}::pg_catalog.regnamespace
     WHERE p.oid IS NULL OR pg_catalog.md5(pg_catalog.pg_get_functiondef(p.oid)) <> r.md5
    UNION ALL
    SELECT u.unit, u.job_name, 'registry row ' || u.job_name,
           CASE WHEN r.job_name IS NULL THEN 'missing' ELSE 'changed by hand' END
      FROM units AS u
      LEFT JOIN {{ js }}.job_registry AS r ON r.job_name = u.job_name
     WHERE u.catalog OPERATOR(pg_catalog.?) 'registry'
       AND (u.catalog OPERATOR(pg_catalog.->>) 'registry') IS DISTINCT FROM
           ({{ js }}.unit_catalog(u.unit, '{}') OPERATOR(pg_catalog.->>) 'registry')
    UNION ALL
    SELECT NULL, NULL, p.oid::pg_catalog.regprocedure::text, 'extra'
      FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = {{ jobs_schema | literal }}::pg_catalog.regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                        WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
       AND NOT EXISTS (SELECT 1 FROM recorded AS r WHERE r.signature = p.oid::pg_catalog.regprocedure::text)
       AND EXISTS (SELECT 1 FROM units)
    UNION ALL
    SELECT NULL, r.job_name, 'registry row ' || r.job_name, 'extra'
      FROM {{ js }}.job_registry AS r
     WHERE NOT EXISTS (SELECT 1 FROM {{ js }}.deployed_objects AS o WHERE o.unit = 'registry/' || r.job_name)
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.catalog_drift() FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.catalog_drift() IS
    'SECURITY DEFINER (job_health calls it for its reader): what differs between the objects the deployer installed and the catalog now: changed by hand, missing, extra';

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
  -- Runs in progress and abandoned ones. A `running` row is alive while its backend is: the
  -- same PID with the same start time (a PID is reused, the pair is not; rows from before
  -- backend_start: a backend with that PID that started before the run). A reader without
  -- pg_read_all_stats sees other roles' backends without their start time: for it the PID
  -- alone tells. Abandoned: marked so by cleanup, or `running` with its backend gone.
  LEFT JOIN LATERAL (
        SELECT pg_catalog.max(e.executed_at) FILTER (WHERE e.alive) AS since,
               pg_catalog.count(*) FILTER (WHERE NOT e.alive)     AS lost
          FROM (SELECT x.executed_at,
                       x.status = 'running' AND EXISTS (
                           SELECT 1 FROM pg_catalog.pg_stat_activity AS a
                            WHERE a.pid = x.backend_pid
                              AND (a.backend_start = x.backend_start OR a.backend_start IS NULL
                                   OR (x.backend_start IS NULL AND a.backend_start <= x.executed_at))) AS alive
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
    '(blind_tables), what pg_cron holds for it (cron_state), and one state label (see 50_health.sql for their order)';
