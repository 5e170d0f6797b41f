{#
  What the deployer records of each unit it installs (deployed_objects.catalog), so that
  catalog_drift() can compare it with the catalog now.
#}
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
    /* For a registry unit ('registry/<job>'): {"registry": md5 of the row, updated_at and
       scheduled_at aside}. Otherwise {"routines": {signature: md5 of pg_get_functiondef}}
       for the job set's routines named p_routines. */
    SELECT CASE
        WHEN pg_catalog.starts_with(p_unit, 'registry/') THEN pg_catalog.jsonb_build_object(
            'registry', (SELECT pg_catalog.md5(ROW(r.job_name, r.description, r.schedule, r.enabled, r.batch_size,
                                                   r.batch_time, r.min_batch_size, r.max_batch_size, r.time_budget,
                                                   r.lock_timeout, r.max_retries, r.retry_backoff_ms, r.confirm,
                                                   r.run_after)::text)
                           FROM {{ js }}.job_registry AS r
                          WHERE r.job_name = pg_catalog.substr(p_unit, 10)))
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
