{#
  What row security hides from the owner role: every job function refuses its batch, the
  deployer refuses to commit, and job_health shows `blind` while anything is (README.md here).
#}
{% set js = jobs_schema | ident %}
-- SECURITY DEFINER: the question is what row security hides from the owner role (the role
-- the job functions run as), whoever asks: a job function before its batch, job_health for
-- its reader, the deployer before it commits. It takes no argument, reads only the catalog,
-- and pins its search_path.
CREATE OR REPLACE FUNCTION {{ js }}.blind_spots()
RETURNS text[]
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* The tables the owner role may read (it was granted them because a job reads or
       writes them, or a trigger a job fires does) on which row security is active for it:
       there a job would see only the rows a policy lets the owner see, usually none, and
       "succeed" having done nothing; and the tables a view of the jobs schema owned by
       another role reads (jobs.storage_objects) where row security applies to that role.
       Empty when the owner has BYPASSRLS, owns the tables, or they have no row security. */
    SELECT coalesce(pg_catalog.array_agg(DISTINCT b.name ORDER BY b.name), '{}'::text[])
      FROM (SELECT c.oid::pg_catalog.regclass::text AS name
              FROM pg_catalog.pg_class AS c
             WHERE c.relrowsecurity
               AND c.relkind IN ('r', 'p')
               AND c.relnamespace <> {{ jobs_schema | literal }}::pg_catalog.regnamespace
               AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
               AND pg_catalog.row_security_active(c.oid)
            UNION ALL
            -- A view of the jobs schema that another role owns (jobs.storage_objects) reads
            -- its tables with that role's rights: row security applies to it there unless it
            -- is a superuser, has BYPASSRLS, or owns the table (and the table does not FORCE it).
            SELECT t.oid::pg_catalog.regclass::text
              FROM pg_catalog.pg_class AS v
              JOIN pg_catalog.pg_roles AS o ON o.oid = v.relowner
              JOIN pg_catalog.pg_rewrite AS r ON r.ev_class = v.oid
              JOIN pg_catalog.pg_depend AS d
                ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
               AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
              JOIN pg_catalog.pg_class AS t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p') AND t.relrowsecurity
             WHERE v.relnamespace = {{ jobs_schema | literal }}::pg_catalog.regnamespace
               AND v.relkind = 'v'
               AND v.relowner <> {{ roles.owner | literal }}::pg_catalog.regrole
               AND NOT (o.rolsuper OR o.rolbypassrls)
               AND (t.relforcerowsecurity OR NOT pg_catalog.pg_has_role(v.relowner, t.relowner, 'USAGE'))) AS b
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.blind_spots() FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.blind_spots() IS
    'SECURITY DEFINER (asks for the owner role, whoever calls): the tables the owner may read on which row security '
    'is active for it, so that a job would see only some of their rows; empty when it sees them whole';
