{#
  The checksum of every rendered unit the deployer installed, so a deploy that changes
  nothing touches nothing; and what the unit left in the catalog when it was installed:
  {"routines": {signature: md5 of pg_get_functiondef}} or {"registry": md5 of the row}.
  catalog_drift() compares that with the catalog now, so an object changed by hand is seen
  from inside the database.
#}
{% from "macros/registry.sql" import unit_job_name %}
{% set js = jobs_schema | ident %}
CREATE TABLE IF NOT EXISTS {{ js }}.deployed_objects (
    unit        text PRIMARY KEY,
    checksum    text        NOT NULL,
    deployed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    catalog     jsonb,
    -- The job the unit belongs to (macros/registry.sql), NULL for the framework's units.
    job_name    text GENERATED ALWAYS AS ({{ unit_job_name }}) STORED
);
REVOKE ALL ON {{ js }}.deployed_objects FROM PUBLIC;
COMMENT ON TABLE {{ js }}.deployed_objects IS
    'Checksum of each rendered SQL unit the deployer installed';
