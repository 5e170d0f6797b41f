{% set js = jobs_schema | ident %}
-- SECURITY DEFINER: as run_open. It changes only a `running` row of the calling backend, so
-- no caller can rewrite another run's history, and pins its search_path.
CREATE OR REPLACE FUNCTION {{ js }}.run_update(
    p_exec     bigint,
    p_status   text,
    p_affected bigint,
    p_batches  integer,
    p_details  jsonb,
    p_sizes    integer[] DEFAULT NULL,
    p_message  text DEFAULT NULL,
    p_error    text DEFAULT NULL,
    p_sqlstate text DEFAULT NULL,
    p_context  text DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    /* Records a batch (p_status running) or the end of run p_exec (succeeded, partial,
       failed: finished_at and duration_ms set from the run's start). */
    IF p_status NOT IN ('running', 'succeeded', 'partial', 'failed') THEN
        RAISE EXCEPTION 'run_update: status must be running, succeeded, partial or failed, not %', p_status
            USING ERRCODE = '22023';
    END IF;
    UPDATE {{ js }}.job_executions AS e
       SET status = p_status,
           success = CASE WHEN p_status = 'running' THEN e.success ELSE p_status <> 'failed' END,
           affected_count = p_affected, batches = p_batches, details = p_details,
           batch_sizes = coalesce(p_sizes, e.batch_sizes),
           message = coalesce(p_message, e.message), error = p_error, sqlstate = p_sqlstate,
           error_context = p_context,
           finished_at = CASE WHEN p_status <> 'running' THEN pg_catalog.clock_timestamp() END,
           duration_ms = CASE WHEN p_status <> 'running'
                              THEN (EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - e.executed_at) * 1000)::bigint END
     WHERE e.id = p_exec AND e.status = 'running' AND e.backend_pid = pg_catalog.pg_backend_pid();
    IF NOT FOUND THEN
        RAISE EXCEPTION 'run_update: execution % is not a running run of this backend', p_exec USING ERRCODE = '22023';
    END IF;
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.run_update(bigint, text, bigint, integer, jsonb, integer[], text, text, text, text) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.run_update(bigint, text, bigint, integer, jsonb, integer[], text, text, text, text) IS
    'SECURITY DEFINER: run_job (as the runner role) records a batch or a run''s end here, for a running run of its own backend only';
