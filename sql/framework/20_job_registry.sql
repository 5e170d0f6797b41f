{#
  What run_job needs to know about each job, written by the deployer from the manifest
  (register_job()). Adaptive batches (docs/rules.md: The runner): batch_size is the first
  batch's size; later ones grow or shrink, within [min_batch_size, max_batch_size], to take
  about batch_time each.
#}
{% set js = jobs_schema | ident %}
CREATE TABLE IF NOT EXISTS {{ js }}.job_registry (
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
    updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    batch_time       interval    NOT NULL DEFAULT '200 milliseconds',
    min_batch_size   integer     NOT NULL DEFAULT 1,
    max_batch_size   integer     NOT NULL DEFAULT 100000,
    -- When the deployer last scheduled the job with pg_cron (NULL: not scheduled by it).
    -- A fire of its schedule after this moment with no run is what job_health calls overdue.
    scheduled_at     timestamptz,
    -- The jobs it runs after in `deployer run all` (the manifest's `after`).
    run_after        text[]      NOT NULL DEFAULT '{}',
    -- The command the deployer scheduled in pg_cron for it (NULL: deployed without a
    -- schedule, `deploy --no-schedule`, or disabled). job_health compares pg_cron's entry with it.
    cron_command     text
);
REVOKE ALL ON {{ js }}.job_registry FROM PUBLIC;
COMMENT ON TABLE {{ js }}.job_registry IS
    'The deployed jobs and their runner settings (batch sizes and target batch time, time budget, lock timeout, retries)';
