{#
  deployed_objects of an earlier release: the columns added since; and the rows of units
  that are no longer (the framework's files that held several objects, each in a file of
  its own now), so that they are neither reported as extra nor judged against the catalog.
#}
{% from "macros/registry.sql" import unit_job_name %}
{% set js = jobs_schema | ident %}
ALTER TABLE IF EXISTS {{ js }}.deployed_objects
    ADD COLUMN IF NOT EXISTS catalog  jsonb,
    ADD COLUMN IF NOT EXISTS job_name text GENERATED ALWAYS AS ({{ unit_job_name }}) STORED;
DO $upgrade$
BEGIN
    IF pg_catalog.to_regclass({{ (js ~ '.deployed_objects') | literal }}) IS NOT NULL THEN
        DELETE FROM {{ js }}.deployed_objects
         WHERE unit IN ('framework/35_cron.sql', 'framework/50_health.sql');
    END IF;
END
$upgrade$;
