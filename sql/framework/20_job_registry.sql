{#
  What run_job needs to know about each job, written by the deployer from the manifest.
  deployed_objects remembers the checksum of every rendered unit, so a deploy that
  changes nothing touches nothing.
#}
CREATE TABLE IF NOT EXISTS {{ jobs_schema | ident }}.job_registry (
    job_name         text PRIMARY KEY,
    description      text        NOT NULL DEFAULT '',
    schedule         text        NOT NULL,
    enabled          boolean     NOT NULL DEFAULT true,
    batch_size       integer     NOT NULL CHECK (batch_size > 0),
    time_budget      interval    NOT NULL,
    lock_timeout     text        NOT NULL,
    max_retries      integer     NOT NULL CHECK (max_retries >= 0),
    retry_backoff_ms integer     NOT NULL CHECK (retry_backoff_ms > 0),
    confirm          boolean     NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now()
);
-- Adaptive batches (docs/rules.md: The runner): batch_size is the first batch's size; later ones grow or
-- shrink, within [min_batch_size, max_batch_size], to take about batch_time each.
ALTER TABLE {{ jobs_schema | ident }}.job_registry
    ADD COLUMN IF NOT EXISTS batch_time     interval NOT NULL DEFAULT '200 milliseconds',
    ADD COLUMN IF NOT EXISTS min_batch_size integer  NOT NULL DEFAULT 1,
    ADD COLUMN IF NOT EXISTS max_batch_size integer  NOT NULL DEFAULT 100000,
    -- When the deployer last scheduled the job with pg_cron (NULL: not scheduled by it).
    -- A fire of its schedule after this moment with no run is what job_health calls overdue.
    ADD COLUMN IF NOT EXISTS scheduled_at   timestamptz,
    -- The jobs it runs after in `deployer run all` (the manifest's `after`).
    ADD COLUMN IF NOT EXISTS run_after      text[]   NOT NULL DEFAULT '{}',
    -- The command the deployer scheduled in pg_cron for it (NULL: deployed without a
    -- schedule, `deploy --no-schedule`, or disabled). job_health compares pg_cron's entry with it.
    ADD COLUMN IF NOT EXISTS cron_command   text;
REVOKE ALL ON {{ jobs_schema | ident }}.job_registry FROM PUBLIC;
COMMENT ON TABLE {{ jobs_schema | ident }}.job_registry IS
    'The deployed jobs and their runner settings (batch sizes and target batch time, time budget, lock timeout, retries)';

CREATE TABLE IF NOT EXISTS {{ jobs_schema | ident }}.deployed_objects (
    unit        text PRIMARY KEY,
    checksum    text        NOT NULL,
    deployed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
-- What the unit left in the catalog when it was installed: {"routines": {signature: md5 of
-- pg_get_functiondef}} or {"registry": md5 of the row}. catalog_drift() compares it with
-- the catalog now, so an object changed by hand is seen from inside the database.
ALTER TABLE {{ jobs_schema | ident }}.deployed_objects
    ADD COLUMN IF NOT EXISTS catalog jsonb;
REVOKE ALL ON {{ jobs_schema | ident }}.deployed_objects FROM PUBLIC;
COMMENT ON TABLE {{ jobs_schema | ident }}.deployed_objects IS
    'Checksum of each rendered SQL unit the deployer installed';
