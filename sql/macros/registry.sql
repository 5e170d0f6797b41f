{#
  A job's registry row as the deployer writes it from the manifest: the columns and their
  types, in this order. register_job() takes them as its arguments and unit_catalog()
  fingerprints them (what the row holds besides: updated_at, scheduled_at, cron_command).
#}
{% set registry_columns = [
    ('job_name', 'text'), ('description', 'text'), ('schedule', 'text'), ('enabled', 'boolean'),
    ('batch_size', 'integer'), ('batch_time', 'interval'), ('min_batch_size', 'integer'),
    ('max_batch_size', 'integer'), ('time_budget', 'interval'), ('lock_timeout', 'text'),
    ('max_retries', 'integer'), ('retry_backoff_ms', 'integer'), ('confirm', 'boolean'), ('run_after', 'text[]')] %}
{#
  The grammar of unit names, read in one place (deployed_objects.job_name): the job a unit
  belongs to, 'registry/<job>' and 'jobs/<job>.sql'; NULL for the framework's units.
#}
{% set unit_job_name -%}
CASE WHEN pg_catalog.starts_with(unit, 'registry/') THEN pg_catalog.substr(unit, 10)
                         WHEN pg_catalog.starts_with(unit, 'jobs/')
                             THEN pg_catalog.regexp_replace(pg_catalog.substr(unit, 6), '\.sql$', '')
                    END
{%- endset %}
