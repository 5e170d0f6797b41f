{# Small functions the jobs and the runner share: the week, a run's details, an error's origin. #}
{% set js = jobs_schema | ident %}
CREATE OR REPLACE FUNCTION {{ js }}.week_start(
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
REVOKE ALL ON FUNCTION {{ js }}.week_start(timestamptz, text) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.week_start(timestamptz, text) IS
    'Start (Monday 00:00 in the given zone) of the week holding the given moment';

CREATE OR REPLACE FUNCTION {{ js }}.merge_details(
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
                       THEN {{ js }}.merge_details(t.value, b.value)
                   ELSE coalesce(b.value, t.value)
               END), '{}'::jsonb)
      INTO v_out
      FROM jsonb_each(coalesce(p_total, '{}'::jsonb)) AS t
      FULL JOIN jsonb_each(coalesce(p_batch, '{}'::jsonb)) AS b USING (key);
    RETURN v_out;
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.merge_details(jsonb, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.merge_details(jsonb, jsonb) IS
    'Sum of two job detail documents, key by key (used to total a run over its batches)';

CREATE OR REPLACE FUNCTION {{ js }}.error_origin(
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
REVOKE ALL ON FUNCTION {{ js }}.error_origin(text) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.error_origin(text) IS
    'The function frames of an error context, innermost first (which function and line raised it)';
