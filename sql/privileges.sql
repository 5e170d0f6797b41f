{#
  Least privilege (docs/rules.md: The runner; the design is in framework/README.md). Run by every deploy that
  installs anything, after every other unit: it makes the owner role own each object of
  the jobs schema, takes every right on it from PUBLIC, Supabase's API roles and the job
  set's own roles, then grants exactly:

  - owner   owns the schema and its objects; reads and writes the app's tables (the job
            functions run as it) and reads storage.objects through jobs.storage_objects,
            a view that stays the deploying role's (on Supabase only that role may reach the
            storage schema); deletes pg_cron's old run details (cleanup).
  - runner  USAGE on the schema; EXECUTE on run_job, the job functions (real and dry runs),
            their <job>_changes listers, and the few helpers run_job calls itself; SELECT
            on job_registry and job_executions (history). Nothing else: no app table.
  - monitor USAGE on the schema; SELECT on job_executions, job_health, job_registry,
            deployments and deployed_objects; EXECUTE on what job_health and `deployer
            status` call (cron_fire, cron_field, catalog_drift, unit_catalog, cron_jobs,
            blind_spots, backend_alive).

  The roles themselves are created by the deployer (deployer/install.py), not here: a role
  belongs to the cluster, not to the database.
#}
{% set js = jobs_schema | ident %}
{% set runner = roles.runner | ident %}
{% set monitor = roles.monitor | ident %}
DO $privileges$
DECLARE
    v_obj record;
BEGIN
    -- Ownership of everything the deploy created in the jobs schema (extensions' members aside).
    EXECUTE pg_catalog.format('ALTER SCHEMA %I OWNER TO %I', {{ jobs_schema | literal }}, {{ roles.owner | literal }});
    FOR v_obj IN
        SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                              ELSE 'TABLE' END AS kind, c.oid::pg_catalog.regclass::text AS name
          FROM pg_catalog.pg_class AS c
         WHERE c.relnamespace = {{ jobs_schema | literal }}::pg_catalog.regnamespace
           AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
           AND c.relowner <> {{ roles.owner | literal }}::pg_catalog.regrole
           -- reads storage.objects with the rights of the role that deploys (cleanup_media.sql)
           AND NOT (c.relkind = 'v' AND c.relname = 'storage_objects')
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                            WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                              AND d.deptype IN ('e', 'a', 'i'))
        UNION ALL
        SELECT 'ROUTINE', p.oid::pg_catalog.regprocedure::text
          FROM pg_catalog.pg_proc AS p
         WHERE p.pronamespace = {{ jobs_schema | literal }}::pg_catalog.regnamespace
           AND p.proowner <> {{ roles.owner | literal }}::pg_catalog.regrole
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                            WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
                              AND d.deptype = 'e')
    LOOP
        EXECUTE pg_catalog.format('ALTER %s %s OWNER TO %I', v_obj.kind, v_obj.name, {{ roles.owner | literal }});
    END LOOP;

    -- Nobody but the owner has any right on the schema; the grants below add back exactly
    -- what each role needs (so a right a release no longer grants is taken away).
    FOR v_obj IN
        SELECT r.rolname FROM pg_catalog.pg_roles AS r
         WHERE r.rolname IN ('anon', 'authenticated', 'service_role', {{ roles.runner | literal }},
                             {{ roles.monitor | literal }})
        UNION ALL SELECT 'PUBLIC'
    LOOP
        EXECUTE pg_catalog.format(
            'REVOKE ALL ON SCHEMA %1$I FROM %2$s; REVOKE ALL ON ALL TABLES IN SCHEMA %1$I FROM %2$s;'
            ' REVOKE ALL ON ALL SEQUENCES IN SCHEMA %1$I FROM %2$s; REVOKE ALL ON ALL ROUTINES IN SCHEMA %1$I FROM %2$s',
            {{ jobs_schema | literal }},
            CASE WHEN v_obj.rolname = 'PUBLIC' THEN 'PUBLIC' ELSE pg_catalog.quote_ident(v_obj.rolname) END);
    END LOOP;

    -- EXECUTE by routine name, whatever the signature.
    FOR v_obj IN
        SELECT p.oid::pg_catalog.regprocedure::text AS name, g.grantee
          FROM pg_catalog.pg_proc AS p
          JOIN (VALUES
                    {% for job in job_names %}({{ job | literal }}, {{ roles.runner | literal }}),
                    ({{ (job ~ '_changes') | literal }}, {{ roles.runner | literal }}),
                    {% endfor %}('run_job', {{ roles.runner | literal }}), ('run_open', {{ roles.runner | literal }}),
                    ('run_update', {{ roles.runner | literal }}), ('announce', {{ roles.runner | literal }}),
                    ('merge_details', {{ roles.runner | literal }}), ('error_origin', {{ roles.runner | literal }}),
                    ('cron_fire', {{ roles.monitor | literal }}), ('cron_field', {{ roles.monitor | literal }}),
                    ('catalog_drift', {{ roles.monitor | literal }}), ('unit_catalog', {{ roles.monitor | literal }}),
                    ('cron_jobs', {{ roles.monitor | literal }}), ('blind_spots', {{ roles.monitor | literal }}),
                    ('backend_alive', {{ roles.monitor | literal }})
               ) AS g (routine, grantee) ON g.routine = p.proname
         WHERE p.pronamespace = {{ jobs_schema | literal }}::pg_catalog.regnamespace
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO %I', v_obj.name, v_obj.grantee);
    END LOOP;

    -- The owner does the jobs' work: the app's tables, and reads Supabase's storage.objects
    -- through a view (cleanup_media; `deployer media purge` deletes as the person who runs it).
    IF pg_catalog.to_regnamespace({{ app_schema | literal }}) IS NOT NULL THEN
        EXECUTE pg_catalog.format(
            'GRANT USAGE ON SCHEMA %1$I TO %2$I; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %1$I TO %2$I;'
            ' GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %1$I TO %2$I;'
            -- and on what the deploying role (usually the one that runs the app's
            -- migrations) creates there later: a trigger a job fires may write a new table.
            ' ALTER DEFAULT PRIVILEGES IN SCHEMA %1$I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %2$I;'
            ' ALTER DEFAULT PRIVILEGES IN SCHEMA %1$I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %2$I',
            {{ app_schema | literal }}, {{ roles.owner | literal }});
    END IF;
    IF pg_catalog.to_regnamespace({{ storage_schema | literal }}) IS NOT NULL THEN
        -- Earlier releases granted the owner storage's tables: it reads storage.objects through
        -- jobs.storage_objects now (below).
        EXECUTE pg_catalog.format('REVOKE ALL ON ALL TABLES IN SCHEMA %1$I FROM %2$I',
                                  {{ storage_schema | literal }}, {{ roles.owner | literal }});
    END IF;
    IF pg_catalog.to_regclass({{ (js ~ '.storage_objects') | literal }}) IS NOT NULL THEN
        EXECUTE pg_catalog.format('GRANT SELECT ON %I.storage_objects TO %I',
                                  {{ jobs_schema | literal }}, {{ roles.owner | literal }});
    END IF;
    -- cleanup deletes pg_cron's old run details, where pg_cron lives in this database.
    IF pg_catalog.to_regclass('cron.job_run_details') IS NOT NULL THEN
        EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA cron TO %1$I; GRANT SELECT, DELETE ON cron.job_run_details TO %1$I;'
                                  ' GRANT SELECT ON cron.job TO %1$I', {{ roles.owner | literal }});
    END IF;
END
$privileges$;

GRANT USAGE ON SCHEMA {{ js }} TO {{ runner }}, {{ monitor }};
GRANT SELECT ON {{ js }}.job_registry, {{ js }}.job_executions TO {{ runner }};
GRANT SELECT ON {{ js }}.job_executions, {{ js }}.job_health, {{ js }}.job_registry, {{ js }}.deployments,
                {{ js }}.deployed_objects TO {{ monitor }};
