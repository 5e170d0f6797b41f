{#
  A job's registry row, inserted or updated from the manifest: the statement the deployer
  runs for each job's `registry/<job>` unit.
#}
{% from "macros/registry.sql" import registry_columns %}
{% set js = jobs_schema | ident %}
CREATE OR REPLACE FUNCTION {{ js }}.register_job(
{% for column, type in registry_columns %}
    p_{{ column }} {{ type }}{{ ',' if not loop.last }}
{% endfor %}
)
RETURNS void
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* Inserts the job's row, or updates every column the manifest sets; updated_at = now(). */
    INSERT INTO {{ js }}.job_registry AS r (
{% for column, _ in registry_columns %}
               {{ column }},
{% endfor %}
               updated_at)
    VALUES (
{% for column, _ in registry_columns %}
               p_{{ column }},
{% endfor %}
               pg_catalog.now())
    ON CONFLICT (job_name) DO UPDATE
       SET
{% for column, _ in registry_columns if column != 'job_name' %}
           {{ column }} = EXCLUDED.{{ column }},
{% endfor %}
           updated_at = pg_catalog.now()
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.register_job({{ registry_columns | map('last') | join(', ') }}) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.register_job({{ registry_columns | map('last') | join(', ') }}) IS
    'Inserts or updates a job''s registry row from the manifest (the deployer''s registry/<job> unit)';
