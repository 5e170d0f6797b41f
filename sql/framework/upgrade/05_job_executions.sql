{#
  job_executions of an earlier release, or SnapBet's own (the seed's columns: id, job_name,
  success NOT NULL, message, affected_count, duration_ms, details, executed_at, executed_by),
  brought to 10_job_executions.sql's shape in place: its rows keep their outcome. Rows of a
  release before backend_start keep it NULL (backend_alive() reads them).
#}
{% set js = jobs_schema | ident %}
-- status is added without a default first, so rows already there are given the status their
-- `success` says rather than 'running'.
ALTER TABLE IF EXISTS {{ js }}.job_executions
    ADD COLUMN IF NOT EXISTS status        text,
    ADD COLUMN IF NOT EXISTS finished_at   timestamptz,
    ADD COLUMN IF NOT EXISTS params        jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS error         text,
    ADD COLUMN IF NOT EXISTS error_context text,
    ADD COLUMN IF NOT EXISTS sqlstate      text,
    ADD COLUMN IF NOT EXISTS batches       integer NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS batch_sizes   integer[] NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS backend_pid   integer,
    ADD COLUMN IF NOT EXISTS backend_start timestamptz,
    ADD COLUMN IF NOT EXISTS run_as        text;
DO $upgrade$
BEGIN
    IF pg_catalog.to_regclass({{ (js ~ '.job_executions') | literal }}) IS NULL THEN
        RETURN;
    END IF;
    UPDATE {{ js }}.job_executions
       SET status = CASE WHEN success IS FALSE THEN 'failed' ELSE 'succeeded' END
     WHERE status IS NULL;
    ALTER TABLE {{ js }}.job_executions
        ALTER COLUMN status SET DEFAULT 'running',
        ALTER COLUMN status SET NOT NULL,
        ALTER COLUMN success DROP NOT NULL;
    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_constraint
         WHERE conname = 'job_executions_status_check'
           AND conrelid = {{ (js ~ '.job_executions') | literal }}::pg_catalog.regclass
    ) THEN
        ALTER TABLE {{ js }}.job_executions
            ADD CONSTRAINT job_executions_status_check
            CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'skipped', 'abandoned'));
    END IF;
END
$upgrade$;
-- (job_name, executed_at DESC) of earlier releases: job_executions_job_latest_idx replaces it.
DROP INDEX IF EXISTS {{ js }}.job_executions_job_name_executed_at_idx;
