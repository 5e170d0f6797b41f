{# Small functions the jobs and the runner share. #}
CREATE OR REPLACE FUNCTION {{ jobs_schema | ident }}.week_start(
    p_now      timestamptz,
    p_timezone text
)
RETURNS timestamptz
LANGUAGE sql
STABLE
STRICT
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* Monday 00:00 in p_timezone of the week holding p_now (docs/rules.md: The week). */
    SELECT pg_catalog.timezone(p_timezone, pg_catalog.date_trunc('week', pg_catalog.timezone(p_timezone, p_now)))
$fn$;
REVOKE ALL ON FUNCTION {{ jobs_schema | ident }}.week_start(timestamptz, text) FROM PUBLIC;
COMMENT ON FUNCTION {{ jobs_schema | ident }}.week_start(timestamptz, text) IS
    'Start (Monday 00:00 in the given zone) of the week holding the given moment';

CREATE OR REPLACE FUNCTION {{ jobs_schema | ident }}.merge_details(
    p_total jsonb,
    p_batch jsonb
)
RETURNS jsonb
LANGUAGE plpgsql
STABLE  -- not IMMUTABLE: casts between jsonb and numeric are STABLE (plpgsql_check 2.8.6+ says so)
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_out jsonb;
BEGIN
    /* Adds one batch's details into the run's: numbers are summed key by key, nested
       objects merged the same way, anything else is taken from the batch. */
    SELECT coalesce(jsonb_object_agg(
               key,
               CASE
                   WHEN jsonb_typeof(t.value) = 'number' AND jsonb_typeof(b.value) = 'number'
                       THEN to_jsonb(t.value::numeric + b.value::numeric)
                   WHEN jsonb_typeof(t.value) = 'object' AND jsonb_typeof(b.value) = 'object'
                       THEN {{ jobs_schema | ident }}.merge_details(t.value, b.value)
                   ELSE coalesce(b.value, t.value)
               END), '{}'::jsonb)
      INTO v_out
      FROM jsonb_each(coalesce(p_total, '{}'::jsonb)) AS t
      FULL JOIN jsonb_each(coalesce(p_batch, '{}'::jsonb)) AS b USING (key);
    RETURN v_out;
END
$fn$;
REVOKE ALL ON FUNCTION {{ jobs_schema | ident }}.merge_details(jsonb, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION {{ jobs_schema | ident }}.merge_details(jsonb, jsonb) IS
    'Sum of two job detail documents, key by key (used to total a run over its batches)';

CREATE OR REPLACE FUNCTION {{ jobs_schema | ident }}.error_origin(
    p_context text
)
RETURNS text
LANGUAGE sql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* Where an error came from, from its PG_EXCEPTION_CONTEXT: one line per function frame,
       innermost (the raiser) first, e.g. "update_post_comment_count() line 11 at SQL
       statement"; the text of the SQL statements between them and the runner's own frame
       are left out. NULL when no frame is named. */
    SELECT pg_catalog.string_agg(pg_catalog.regexp_replace(f.m[1], '^PL/pgSQL function ', ''), E'\n' ORDER BY f.n)
      FROM pg_catalog.regexp_matches(p_context, '^((?:PL/pgSQL|SQL|PL/[A-Za-z0-9]+) function .*)$', 'gn')
           WITH ORDINALITY AS f(m, n)
     WHERE f.m[1] NOT LIKE '%run_job(text,timestamp with time zone,integer,text) line %'
$fn$;
REVOKE ALL ON FUNCTION {{ jobs_schema | ident }}.error_origin(text) FROM PUBLIC;
COMMENT ON FUNCTION {{ jobs_schema | ident }}.error_origin(text) IS
    'The function frames of an error context, innermost first (which function and line raised it)';

-- SECURITY DEFINER: the question is what row security hides from the owner role (the role
-- the job functions run as), whoever asks: a job function before its batch, job_health for
-- its reader, the deployer before it commits. It takes no argument, reads only the catalog,
-- and pins its search_path.
CREATE OR REPLACE FUNCTION {{ jobs_schema | ident }}.blind_spots()
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
REVOKE ALL ON FUNCTION {{ jobs_schema | ident }}.blind_spots() FROM PUBLIC;
COMMENT ON FUNCTION {{ jobs_schema | ident }}.blind_spots() IS
    'SECURITY DEFINER (asks for the owner role, whoever calls): the tables the owner may read on which row security '
    'is active for it, so that a job would see only some of their rows; empty when it sees them whole';
