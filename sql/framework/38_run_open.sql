{% set js = jobs_schema | ident %}
-- SECURITY DEFINER: the runner role may start a run but not write job_executions itself.
-- It inserts one row for the calling backend (running, or skipped with its message), and
-- pins its search_path.
CREATE OR REPLACE FUNCTION {{ js }}.run_open(
    p_job           text,
    p_status        text,
    p_params        jsonb,
    p_executed_by   text,
    p_backend_start timestamptz,
    p_started       timestamptz,
    p_message       text DEFAULT NULL,
    p_run_as        text DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_id bigint;
BEGIN
    /* Records the start of a run of p_job by this backend (status running), or a run
       skipped because another one is in progress (status skipped, finished at once).
       p_run_as is the role the caller works as (its current_user, which this function,
       running as the owner, cannot see). */
    IF p_status NOT IN ('running', 'skipped') THEN
        RAISE EXCEPTION 'run_open: status must be running or skipped, not %', p_status USING ERRCODE = '22023';
    END IF;
    INSERT INTO {{ js }}.job_executions
           (job_name, status, success, message, params, executed_by, backend_pid, backend_start,
            executed_at, finished_at, duration_ms, run_as)
    VALUES (p_job, p_status, CASE WHEN p_status = 'skipped' THEN true END, p_message, p_params,
            coalesce(p_executed_by, session_user), pg_catalog.pg_backend_pid(), p_backend_start, p_started,
            CASE WHEN p_status = 'skipped' THEN pg_catalog.clock_timestamp() END,
            CASE WHEN p_status = 'skipped' THEN 0 END, p_run_as)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.run_open(text, text, jsonb, text, timestamptz, timestamptz, text, text) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.run_open(text, text, jsonb, text, timestamptz, timestamptz, text, text) IS
    'SECURITY DEFINER: run_job (as the runner role) records a run''s start or skip here; it may not write job_executions itself';
