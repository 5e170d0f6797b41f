{#
  The job set's pg_cron jobs in this database, for job_health and `deployer status`.
#}
{% set js = jobs_schema | ident %}
-- SECURITY DEFINER: pg_cron shows each role only its own cron jobs (row security on cron.job
-- and cron.job_run_details), so a monitor would see the job set as unscheduled. This shows
-- the job set's own cron jobs of this database (their command calls our run_job), read
-- only, to whoever may execute it (the owner, the monitor), and pins its search_path. The
-- owner role sees every role's rows when it has BYPASSRLS (the deployer gives it that when
-- it can). Without pg_cron in this database it returns nothing.
CREATE OR REPLACE FUNCTION {{ js }}.cron_jobs()
RETURNS TABLE (jobid bigint, jobname text, schedule text, command text, database text, username text,
               active boolean, last_status text, last_start timestamptz, last_end timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- pg_cron's tables as found here, named in the query by these values: the names are not
    -- constants, so plpgsql_check (which reads format() with constant arguments) does not
    -- look for tables that only pg_cron's database has.
    v_job     regclass := pg_catalog.to_regclass('cron.job');
    v_details regclass := pg_catalog.to_regclass('cron.job_run_details');
BEGIN
    /* The job set's cron jobs in this database, each with pg_cron's latest run of it. */
    IF v_job IS NULL OR v_details IS NULL THEN
        RETURN;
    END IF;
    FOR jobid, jobname, schedule, command, database, username, active, last_status, last_start, last_end IN
    EXECUTE pg_catalog.format(
        'SELECT j.jobid::bigint, j.jobname::text, j.schedule::text, j.command::text, j.database::text,
                j.username::text, j.active::boolean, d.status::text, d.start_time::timestamptz, d.end_time::timestamptz
           FROM %1$s AS j
           LEFT JOIN LATERAL (SELECT r.status, r.start_time, r.end_time FROM %2$s AS r
                               WHERE r.jobid = j.jobid ORDER BY r.start_time DESC NULLS LAST LIMIT 1) AS d ON true
          WHERE j.database = pg_catalog.current_database() AND pg_catalog.strpos(j.command, $1) > 0
          ORDER BY j.jobid', v_job, v_details)
        USING {{ ('CALL ' ~ js ~ '.run_job(') | literal }}
    LOOP
        RETURN NEXT;
    END LOOP;
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.cron_jobs() FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.cron_jobs() IS
    'SECURITY DEFINER (pg_cron shows each role only its own rows): the job set''s cron jobs here, with their latest pg_cron run';
