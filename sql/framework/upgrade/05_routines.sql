{#
  Routines of earlier releases whose arguments have changed since: dropped, so that a call
  finds today's form alone.
#}
{% set js = jobs_schema | ident %}
-- cron_field without p_version, which returned the field's values.
DROP FUNCTION IF EXISTS {{ js }}.cron_field(text, integer, integer, text[]);
-- run_open without p_run_as.
DROP FUNCTION IF EXISTS {{ js }}.run_open(text, text, jsonb, text, timestamptz, timestamptz, text);
-- The job functions' 3-argument form (p_now, p_dry_run, p_limit), before p_after: today's
-- 4th argument has a default, so 3-argument calls keep working once the old form is gone.
DO $upgrade$
DECLARE
    v_fn regprocedure;
BEGIN
    FOR v_fn IN
        SELECT p.oid::pg_catalog.regprocedure
          FROM pg_catalog.pg_proc AS p
         WHERE p.pronamespace = pg_catalog.to_regnamespace({{ jobs_schema | literal }})
           AND p.proargtypes = '1184 16 23'::pg_catalog.oidvector  -- timestamptz, boolean, integer
           AND p.prorettype = 'pg_catalog.jsonb'::pg_catalog.regtype
    LOOP
        EXECUTE pg_catalog.format('DROP FUNCTION %s', v_fn);
    END LOOP;
END
$upgrade$;
