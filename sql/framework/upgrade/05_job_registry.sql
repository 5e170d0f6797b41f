{# job_registry of an earlier release: the columns added since, with their defaults. #}
{% set js = jobs_schema | ident %}
ALTER TABLE IF EXISTS {{ js }}.job_registry
    ADD COLUMN IF NOT EXISTS batch_time     interval NOT NULL DEFAULT '200 milliseconds',
    ADD COLUMN IF NOT EXISTS min_batch_size integer  NOT NULL DEFAULT 1,
    ADD COLUMN IF NOT EXISTS max_batch_size integer  NOT NULL DEFAULT 100000,
    ADD COLUMN IF NOT EXISTS scheduled_at   timestamptz,
    ADD COLUMN IF NOT EXISTS run_after      text[]   NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS cron_command   text;
