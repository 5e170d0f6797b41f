{#
  What the deployer records of each unit it installs (deployed_objects.catalog), so that
  catalog_drift() can compare it with the catalog now.
#}
{% from "macros/registry.sql" import registry_columns %}
{% set js = jobs_schema | ident %}
CREATE OR REPLACE FUNCTION {{ js }}.unit_catalog(
    p_unit     text,
    p_routines text[]
)
RETURNS jsonb
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* For a registry unit ('registry/<job>'): {"registry": md5 of the row as the deployer
       writes it (macros/registry.sql)}. Otherwise {"routines": {signature: md5 of pg_get_functiondef}}
       for the job set's routines named p_routines. */
    SELECT CASE
        WHEN pg_catalog.starts_with(p_unit, 'registry/') THEN pg_catalog.jsonb_build_object(
            'registry', (SELECT pg_catalog.md5(ROW(
{% for column, _ in registry_columns %}
                                   r.{{ column }}{{ ',' if not loop.last }}
{% endfor %}
                               )::text)
                           FROM {{ js }}.job_registry AS r
                           JOIN {{ js }}.deployed_objects AS o ON o.job_name = r.job_name
                          WHERE o.unit = p_unit))
        ELSE pg_catalog.jsonb_build_object('routines', coalesce((
            SELECT pg_catalog.jsonb_object_agg(p.oid::pg_catalog.regprocedure::text,
                                               pg_catalog.md5(pg_catalog.pg_get_functiondef(p.oid)))
              FROM pg_catalog.pg_proc AS p
             WHERE p.pronamespace = {{ jobs_schema | literal }}::pg_catalog.regnamespace
               AND p.proname = ANY (p_routines)), '{}'::jsonb))
    END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.unit_catalog(text, text[]) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.unit_catalog(text, text[]) IS
    'What a deployed unit left in the catalog: checksums of its routines, or of its registry row';
