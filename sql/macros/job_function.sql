{#
  The frame every job function shares (SPEC 3): the signature
  jobs.<name>(p_now, p_dry_run, p_limit) RETURNS jsonb; a pinned search_path of pg_catalog
  (nothing shadows a built-in), the app schema (SnapBet's own triggers name tables without
  a schema and must find them when a job's write fires them) and pg_temp last (no temporary
  object shadows anything); JIT off (batches are small; JIT compiled every statement of a
  batch for ~140 ms); the `comment` both at the top of the body and in COMMENT ON FUNCTION
  (what \df+ shows); a guard on p_limit; then the caller's statements. Not executable by
  PUBLIC. `declare` is the text of the DECLARE section ({% set declare %}…{% endset %}).
#}
{% macro job_function(name, comment, declare) %}
CREATE OR REPLACE FUNCTION {{ jobs_schema | ident }}.{{ name | ident }}(
    p_now     timestamptz,
    p_dry_run boolean DEFAULT false,
    p_limit   integer DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, {{ app_schema | ident }}, pg_temp
SET jit = off
AS $fn$
DECLARE
{{ declare }}
BEGIN
    /* {{ comment | wordwrap(88, wrapstring='\n       ') }} */
    IF p_limit IS NOT NULL AND p_limit < 0 THEN
        RAISE EXCEPTION 'p_limit must be >= 0, got %', p_limit USING ERRCODE = '22023';
    END IF;
{{ caller() }}
END
$fn$;
REVOKE ALL ON FUNCTION {{ jobs_schema | ident }}.{{ name | ident }}(timestamptz, boolean, integer) FROM PUBLIC;
COMMENT ON FUNCTION {{ jobs_schema | ident }}.{{ name | ident }}(timestamptz, boolean, integer) IS {{ comment | literal }};
{% endmacro %}
