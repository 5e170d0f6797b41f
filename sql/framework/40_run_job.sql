{#
  The runner (docs/rules.md: The runner). A procedure, because it commits after every batch; Postgres forbids
  a SET search_path clause on a procedure that commits, so it pins search_path itself at
  the start of every transaction and schema-qualifies every name.

  Privilege (see README.md here): a procedure that commits cannot be SECURITY DEFINER
  either, so run_job runs as its caller, the runner role, which has no right on the app's
  tables nor on job_executions. What needs more goes through SECURITY DEFINER functions
  owned by the owner role: each job function (it does the job's writes), run_open (starts
  or skips a run: inserts its row) and run_update (records a batch or the end of a run: it
  updates only a `running` row of the calling backend). run_job holds the transaction
  control; the owner's functions hold the rights.
#}
{% set js = jobs_schema | ident %}
{# What every transaction of run_job starts with (set_config(..., true) lasts until it ends). #}
{% set pin = "PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);" %}
CREATE OR REPLACE PROCEDURE {{ js }}.run_job(
    p_job         text,
    p_now         timestamptz DEFAULT NULL,
    p_limit       integer     DEFAULT NULL,
    p_executed_by text        DEFAULT NULL
)
LANGUAGE plpgsql
AS $proc$
DECLARE
    v_job        {{ js }}.job_registry%ROWTYPE;
    v_now        timestamptz := coalesce(p_now, pg_catalog.now());
    v_started    timestamptz := pg_catalog.clock_timestamp();
    v_backend_start timestamptz := (SELECT a.backend_start FROM pg_catalog.pg_stat_activity AS a
                                     WHERE a.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid());
    v_lock_key   bigint;
    v_exec_id    bigint;
    v_status     text        := 'succeeded';
    v_batches    integer     := 0;
    v_done       text;        -- '5 affected in 1 batch', for the run's message and its last notice
    v_affected   bigint      := 0;
    v_details    jsonb       := '{}'::jsonb;
    v_result     jsonb;
    v_batch_n    bigint;
    v_want       integer;
    v_size       integer;
    v_sizes      integer[]   := '{}'::integer[];
    v_after      jsonb;
    v_call_start timestamptz;
    v_call_time  interval;
    v_attempt    integer;
    v_wait_ms    numeric;
    ex_state     text;
    ex_message   text;
    ex_detail    text;
    ex_hint      text;
    ex_column    text;
    ex_constraint text;
    ex_datatype  text;
    ex_table     text;
    ex_schema    text;
    ex_context   text;
BEGIN
    /* Runs job p_job for real at p_now (default: now) in batches, committing after each,
       until it has nothing left, p_limit items are done, or its time budget is spent
       (status partial). Each batch continues after the position the previous one
       returned (`next`), so no batch searches again from the start; the first batch has
       batch_size items and later ones adapt, within [min_batch_size, max_batch_size], to
       take about batch_time each. Records the run in job_executions; on error records it
       as failed with its SQLSTATE and where it was raised, and re-raises. */
    {{ pin }}

    -- Guards first.
    IF p_limit IS NOT NULL AND p_limit < 0 THEN
        RAISE EXCEPTION 'p_limit must be >= 0, got %', p_limit USING ERRCODE = '22023';
    END IF;
    SELECT r.* INTO v_job FROM {{ js }}.job_registry AS r WHERE r.job_name = p_job;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown job "%"', p_job
            USING ERRCODE = '22023', HINT = 'deploy it first; deployed jobs are listed in ' || {{ (jobs_schema ~ '.job_registry') | literal }};
    END IF;
    IF pg_catalog.pg_is_in_recovery() THEN
        RAISE NOTICE 'job %: skipped, this server is a standby', p_job;
        RETURN;
    END IF;
    -- Inside a caller's transaction block this COMMIT fails (2D000) before any lock is taken.
    COMMIT;
    {{ pin }}
    v_lock_key := pg_catalog.hashtextextended(
        pg_catalog.concat({{ (jobs_schema ~ '.run_job:') | literal }}, p_job), 0);
    IF NOT pg_catalog.pg_try_advisory_lock(v_lock_key) THEN
        v_exec_id := {{ js }}.run_open(p_job, 'skipped', pg_catalog.jsonb_build_object('now', v_now, 'limit', p_limit),
                                       p_executed_by, v_backend_start, v_started,
                                       'another run of this job is in progress', current_user);
        PERFORM {{ js }}.announce('skipped', p_job, v_exec_id, pg_catalog.jsonb_build_object(
            'status', 'skipped', 'executed_by', coalesce(p_executed_by, session_user),
            'message', 'another run of this job is in progress'));
        COMMIT;
        RAISE NOTICE 'job %: skipped, another run of this job is in progress', p_job;
        RETURN;
    END IF;

    v_exec_id := {{ js }}.run_open(p_job, 'running', pg_catalog.jsonb_build_object('now', v_now, 'limit', p_limit),
                                   p_executed_by, v_backend_start, v_started, NULL, current_user);
    PERFORM {{ js }}.announce('start', p_job, v_exec_id, pg_catalog.jsonb_build_object(
        'status', 'running', 'now', v_now, 'limit', p_limit,
        'executed_by', coalesce(p_executed_by, session_user), 'run_as', current_user,
        'application_name', pg_catalog.current_setting('application_name')));
    COMMIT;
    {{ pin }}

    v_size := v_job.batch_size;
    <<batches>>
    LOOP
        v_want := v_size;
        IF p_limit IS NOT NULL THEN
            v_want := LEAST(v_want, p_limit - v_affected);
        END IF;
        EXIT batches WHEN v_want <= 0;

        v_attempt := 0;
        <<attempts>>
        LOOP
            ex_state := NULL;
            BEGIN
                PERFORM pg_catalog.set_config('lock_timeout', v_job.lock_timeout, true);
                v_call_start := pg_catalog.clock_timestamp();
                EXECUTE pg_catalog.format('SELECT %I.%I($1, false, $2, $3)', {{ jobs_schema | literal }}, p_job)
                   INTO v_result
                  USING v_now, v_want, v_after;
                v_call_time := pg_catalog.clock_timestamp() - v_call_start;
                v_batch_n := coalesce((v_result OPERATOR(pg_catalog.->>) 'affected')::bigint, 0);
                v_details := {{ js }}.merge_details(v_details, v_result OPERATOR(pg_catalog.->) 'details');
            EXCEPTION WHEN OTHERS OR query_canceled THEN
                -- query_canceled too: a statement_timeout or a cancel must leave a failed row.
                GET STACKED DIAGNOSTICS ex_state      = RETURNED_SQLSTATE,
                                        ex_message    = MESSAGE_TEXT,
                                        ex_detail     = PG_EXCEPTION_DETAIL,
                                        ex_hint       = PG_EXCEPTION_HINT,
                                        ex_column     = COLUMN_NAME,
                                        ex_constraint = CONSTRAINT_NAME,
                                        ex_datatype   = PG_DATATYPE_NAME,
                                        ex_table      = TABLE_NAME,
                                        ex_schema     = SCHEMA_NAME,
                                        ex_context    = PG_EXCEPTION_CONTEXT;
            END;
            EXIT attempts WHEN ex_state IS NULL;
            ROLLBACK;
            {{ pin }}
            EXIT attempts WHEN ex_state NOT IN ('40001', '40P01', '55P03') OR v_attempt >= v_job.max_retries;
            v_attempt := v_attempt + 1;
            v_wait_ms := v_job.retry_backoff_ms * 2 ^ (v_attempt - 1) * (0.75 + pg_catalog.random() / 2);
            RAISE NOTICE 'job %: batch % hit % (%), retry % of % in % ms',
                p_job, v_batches + 1, ex_state, ex_message, v_attempt, v_job.max_retries, pg_catalog.round(v_wait_ms);
            PERFORM pg_catalog.pg_sleep(v_wait_ms / 1000.0);
        END LOOP attempts;

        IF ex_state IS NOT NULL THEN
            ex_context := {{ js }}.error_origin(ex_context);
            PERFORM {{ js }}.run_update(v_exec_id, 'failed', v_affected, v_batches, v_details, NULL,
                                        pg_catalog.format('failed in batch %s after %s retries: %s',
                                                          v_batches + 1, v_attempt, ex_message),
                                        ex_message, ex_state, ex_context);
            PERFORM {{ js }}.announce('end', p_job, v_exec_id, pg_catalog.jsonb_build_object(
                'status', 'failed', 'affected', v_affected, 'batches', v_batches,
                'duration_ms', (EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - v_started) * 1000)::bigint,
                'error', ex_message, 'sqlstate', ex_state, 'error_context', ex_context));
            COMMIT;
            {{ pin }}
            PERFORM pg_catalog.pg_advisory_unlock(v_lock_key);
            -- Re-raised as it came: SQLSTATE, message and every field a caller may read
            -- (RAISE takes no NULL option; an empty field reads as absent). Its own CONTEXT
            -- would name only this procedure, so where it came from follows the DETAIL.
            RAISE EXCEPTION USING ERRCODE = ex_state, MESSAGE = ex_message,
                                  DETAIL = pg_catalog.concat_ws(E'\n', NULLIF(ex_detail, ''),
                                               'raised in: ' || pg_catalog.replace(ex_context, E'\n', ' <- ')),
                                  HINT = coalesce(ex_hint, ''),
                                  COLUMN = coalesce(ex_column, ''), CONSTRAINT = coalesce(ex_constraint, ''),
                                  DATATYPE = coalesce(ex_datatype, ''), TABLE = coalesce(ex_table, ''),
                                  SCHEMA = coalesce(ex_schema, '');
        END IF;

        v_batches  := v_batches + 1;
        v_affected := v_affected + v_batch_n;
        v_sizes    := v_sizes || v_want;
        v_after    := v_result OPERATOR(pg_catalog.->) 'next';
        PERFORM {{ js }}.run_update(v_exec_id, 'running', v_affected, v_batches, v_details, v_sizes);
        PERFORM {{ js }}.announce('batch', p_job, v_exec_id, pg_catalog.jsonb_build_object(
            'batch', v_batches, 'size', v_want, 'affected', v_batch_n, 'total', v_affected,
            'ms', pg_catalog.round(EXTRACT(EPOCH FROM v_call_time) * 1000)));
        COMMIT;
        {{ pin }}
        RAISE NOTICE 'job %: batch % done, % affected, % in total', p_job, v_batches, v_batch_n, v_affected;

        -- Done when the job says nothing is left after this batch. A row the app makes due
        -- behind the position meanwhile waits for the next run.
        EXIT batches WHEN v_after IS NULL OR pg_catalog.jsonb_typeof(v_after) = 'null';
        -- The next size holds batch_time at this batch's pace, changing by at most 2x a step.
        v_size := LEAST(v_job.max_batch_size, GREATEST(v_job.min_batch_size, pg_catalog.round(
                      v_want * LEAST(2.0, GREATEST(0.5,
                          EXTRACT(EPOCH FROM v_job.batch_time)
                          / GREATEST(EXTRACT(EPOCH FROM v_call_time), 0.001))))::integer));
        IF pg_catalog.clock_timestamp() - v_started >= v_job.time_budget THEN
            v_status := 'partial';
            EXIT batches;
        END IF;
    END LOOP batches;

    v_done := pg_catalog.format('%s affected in %s %s', v_affected, v_batches,
                                CASE WHEN v_batches = 1 THEN 'batch' ELSE 'batches' END);
    PERFORM {{ js }}.run_update(v_exec_id, v_status, v_affected, v_batches, v_details, NULL, CASE
               WHEN v_status = 'partial' THEN pg_catalog.format(
                   '%s; stopped at the time budget of %s', v_done, v_job.time_budget)
               WHEN p_limit IS NOT NULL AND v_affected >= p_limit
                   THEN pg_catalog.format('%s; stopped at the limit', v_done)
               ELSE v_done
           END);
    PERFORM {{ js }}.announce('end', p_job, v_exec_id, pg_catalog.jsonb_build_object(
        'status', v_status, 'affected', v_affected, 'batches', v_batches, 'details', v_details,
        'duration_ms', (EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - v_started) * 1000)::bigint));
    COMMIT;
    PERFORM pg_catalog.pg_advisory_unlock(v_lock_key);
    RAISE NOTICE 'job %: %, %', p_job, v_status, v_done;
END
$proc$;

REVOKE ALL ON PROCEDURE {{ js }}.run_job(text, timestamptz, integer, text) FROM PUBLIC;
COMMENT ON PROCEDURE {{ js }}.run_job(text, timestamptz, integer, text) IS
    'Runs a job for real in committed batches with lock_timeout, retries and a time budget; '
    'records the run in job_executions (skipped when already running, failed with SQLSTATE on error) and re-raises errors';
