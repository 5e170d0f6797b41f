{#
  What a job keeps from one complete run to the next (e.g. rollup_stats' high-water mark of
  settled bets). Written only by the job functions, in the batch that finishes a run; a dry
  run reads it and writes nothing.
#}
{% set js = jobs_schema | ident %}
CREATE TABLE IF NOT EXISTS {{ js }}.job_state (
    job_name   text        PRIMARY KEY,
    state      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
REVOKE ALL ON {{ js }}.job_state FROM PUBLIC;
