{#
  The frame every job function shares (docs/rules.md: The runner): the signature
  jobs.<name>(p_now, p_dry_run, p_limit, p_after) RETURNS jsonb, p_after carrying a run's
  position from batch to batch (macros/position.sql); SECURITY DEFINER, since run_job calls
  it as the runner role, which has no right on the app's tables, and executable by the owner
  and the runner only (sql/privileges.sql); a pinned search_path of pg_catalog (nothing
  shadows a built-in), the app schema (SnapBet's triggers name their tables without one) and
  pg_temp last; JIT off and custom plans always, because a batch is small and its position
  is what makes its plan cheap (bench/README.md: JIT and generic plans); at the top of the
  body and in COMMENT ON FUNCTION (what \df+ shows) the job's `description` from the
  manifest, the one place a job is described, with where its rules are and what the
  arguments mean (the same for every job); guards on p_limit and
  on row security hiding rows from the owner (jobs.blind_spots(): a job that sees no rows
  would "succeed" having done nothing); then the caller's statements, ending with
  macros/job_result.sql. `declare` is the rest of the DECLARE section.
  On Citus (docs/citus.md): a multi-shard write takes one connection a node (its tables have
  foreign keys to reference tables the same transaction reads), and a join of tables that
  are not co-located is repartitioned.
#}
{% set js = jobs_schema | ident %}
{% macro job_function(name, declare) %}
{% set fn = js ~ '.' ~ (name | ident) %}
{% set comment = (description | default('', true) or name) ~ '. Its rules: docs/rules.md, ' ~ name ~ '. p_now is the run\'s moment; '
   ~ 'with p_dry_run it writes nothing and returns the same figures; it handles at most p_limit items '
   ~ '(docs/rules.md says which); it returns {affected, details, next}, next set while work is left.' %}
CREATE OR REPLACE FUNCTION {{ fn }}(
    p_now     timestamptz,
    p_dry_run boolean DEFAULT false,
    p_limit   integer DEFAULT NULL,
    p_after   jsonb   DEFAULT NULL
)
RETURNS jsonb
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, {{ app_schema | ident }}, pg_temp
SET jit = off
SET plan_cache_mode = force_custom_plan
{% if citus %}
SET citus.multi_shard_modify_mode = 'sequential'
SET citus.enable_repartition_joins = on
{% endif %}
AS $fn$
DECLARE
    v_left    bigint  := p_limit;
    v_after   jsonb   := coalesce(p_after, '{}'::jsonb);
    v_more    boolean := false;
    v_last    jsonb;
    v_seen    bigint;
    v_n       bigint;
    v_details jsonb   := '{}'::jsonb;
    v_blind   text[];
{{ declare }}
BEGIN
    /* {{ comment | wordwrap(88, wrapstring='\n       ') }} */
    IF p_limit IS NOT NULL AND p_limit < 0 THEN
        RAISE EXCEPTION 'p_limit must be >= 0, got %', p_limit USING ERRCODE = '22023';
    END IF;
    v_blind := {{ js }}.blind_spots();
    IF v_blind <> '{}'::text[] THEN
        RAISE EXCEPTION 'row level security hides rows of % from role %: the job would not see them',
                        pg_catalog.array_to_string(v_blind, ', '), current_user
              USING ERRCODE = '42501',
                    HINT = pg_catalog.format('as a superuser: ALTER ROLE %I BYPASSRLS', current_user);
    END IF;
{{ caller() }}
END
$fn$;
REVOKE ALL ON FUNCTION {{ fn }}(timestamptz, boolean, integer, jsonb) FROM PUBLIC;
COMMENT ON FUNCTION {{ fn }}(timestamptz, boolean, integer, jsonb) IS {{ ('SECURITY DEFINER (runs as the owner role for the runner role). ' ~ comment ~ ' p_after (optional) is the `next` of the previous batch of the same run: the batch continues after it.') | literal }};
{% endmacro %}

{#
  app_plans(): the caller's statements run with plan_cache_mode = auto, the job function's
  own force_custom_plan back after them. For a write that fires the app's per-row triggers
  or ON DELETE CASCADE: those run a statement per row, which force_custom_plan, in force
  until the function returns, would plan anew for every row (bench/README.md: cleanup).
  Only a statement whose plan needs no batch position belongs inside.
#}
{% macro app_plans(indent=4) %}
{{ ' ' * indent }}PERFORM pg_catalog.set_config('plan_cache_mode', 'auto', true);
{{ caller().rstrip() }}
{{ ' ' * indent }}PERFORM pg_catalog.set_config('plan_cache_mode', 'force_custom_plan', true);
{% endmacro %}
