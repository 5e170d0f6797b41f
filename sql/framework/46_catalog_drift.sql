{#
  catalog_drift() compares what the deployer recorded of each unit (unit_catalog()) with the
  catalog now, so a function edited by hand, dropped, or added beside the deployer's is seen
  from inside the database, without the code that rendered it.
#}
{% set js = jobs_schema | ident %}
-- SECURITY DEFINER: job_health calls it for whoever reads the view, and a monitor that may
-- read the view must not need the registry and deployed_objects themselves. It takes no
-- argument, reads only, and pins its search_path.
CREATE OR REPLACE FUNCTION {{ js }}.catalog_drift()
RETURNS TABLE (unit text, job_name text, object text, kind text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* Every difference between what the deployer installed and the catalog now:
       'changed by hand', 'missing', or 'extra' (a routine or registry row the deployer did
       not install). Units deployed before this was recorded (catalog NULL) are not judged. */
    WITH units AS (
        SELECT o.unit, o.catalog, o.job_name
          FROM {{ js }}.deployed_objects AS o
         WHERE o.catalog IS NOT NULL
    ), recorded AS (
        SELECT u.unit, u.job_name, r.key AS signature, r.value AS md5
          FROM units AS u
         CROSS JOIN LATERAL pg_catalog.jsonb_each_text(u.catalog OPERATOR(pg_catalog.->) 'routines') AS r
    )
    SELECT r.unit, r.job_name, r.signature,
           CASE WHEN p.oid IS NULL THEN 'missing' ELSE 'changed by hand' END
      FROM recorded AS r
      LEFT JOIN pg_catalog.pg_proc AS p
        ON p.oid = pg_catalog.to_regprocedure(r.signature)
       AND p.pronamespace = {{ jobs_schema | literal }}::pg_catalog.regnamespace
     WHERE p.oid IS NULL OR pg_catalog.md5(pg_catalog.pg_get_functiondef(p.oid)) <> r.md5
    UNION ALL
    SELECT u.unit, u.job_name, 'registry row ' || u.job_name,
           CASE WHEN r.job_name IS NULL THEN 'missing' ELSE 'changed by hand' END
      FROM units AS u
      LEFT JOIN {{ js }}.job_registry AS r ON r.job_name = u.job_name
     WHERE u.catalog OPERATOR(pg_catalog.?) 'registry'
       AND (u.catalog OPERATOR(pg_catalog.->>) 'registry') IS DISTINCT FROM
           ({{ js }}.unit_catalog(u.unit, '{}') OPERATOR(pg_catalog.->>) 'registry')
    UNION ALL
    SELECT NULL, NULL, p.oid::pg_catalog.regprocedure::text, 'extra'
      FROM pg_catalog.pg_proc AS p
     WHERE p.pronamespace = {{ jobs_schema | literal }}::pg_catalog.regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                        WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
       AND NOT EXISTS (SELECT 1 FROM recorded AS r WHERE r.signature = p.oid::pg_catalog.regprocedure::text)
       AND EXISTS (SELECT 1 FROM units)
    UNION ALL
    SELECT NULL, r.job_name, 'registry row ' || r.job_name, 'extra'
      FROM {{ js }}.job_registry AS r
     WHERE NOT EXISTS (SELECT 1 FROM {{ js }}.deployed_objects AS o WHERE o.unit = 'registry/' || r.job_name)
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.catalog_drift() FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.catalog_drift() IS
    'SECURITY DEFINER (job_health calls it for its reader): what differs between the objects the deployer installed and the catalog now: changed by hand, missing, extra';
