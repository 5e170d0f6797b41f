{#
  pg_cron's schedules read inside the database, so job_health can say when a job should
  next run and whether a run it should have had is missing. pg_cron 1.4 schedules are five
  fields in UTC (minute hour day-of-month month day-of-week) or an @macro; fields take
  numbers, names (jan..dec, sun..sat), `*`, ranges, steps and lists, and, as in cron, a day
  matches when both day fields do, or either one when neither is `*`.
#}
{% set js = jobs_schema | ident %}
CREATE OR REPLACE FUNCTION {{ js }}.cron_field(
    p_field text,
    p_lo    integer,
    p_hi    integer,
    p_names text[] DEFAULT NULL
)
RETURNS integer[]
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_part  text;
    v_range text;
    v_step  integer;
    v_from  integer;
    v_to    integer;
    v_out   integer[] := '{}'::integer[];
BEGIN
    /* The values one cron field allows, e.g. every 15 minutes, 0 to 59 -> {0,15,30,45}. NULL when
       the field is malformed. */
    FOREACH v_part IN ARRAY pg_catalog.string_to_array(pg_catalog.lower(p_field), ',') LOOP
        v_step := 1;
        v_range := v_part;
        IF pg_catalog.strpos(v_part, '/') > 0 THEN
            v_step := pg_catalog.split_part(v_part, '/', 2)::integer;
            v_range := pg_catalog.split_part(v_part, '/', 1);
        END IF;
        IF v_range = '*' THEN
            v_from := p_lo;
            v_to := p_hi;
        ELSE
            v_from := coalesce(pg_catalog.array_position(p_names, pg_catalog.split_part(v_range, '-', 1)) - 1 + p_lo,
                               pg_catalog.split_part(v_range, '-', 1)::integer);
            v_to := CASE
                WHEN pg_catalog.strpos(v_range, '-') > 0
                    THEN coalesce(pg_catalog.array_position(p_names, pg_catalog.split_part(v_range, '-', 2)) - 1 + p_lo,
                                  pg_catalog.split_part(v_range, '-', 2)::integer)
                WHEN pg_catalog.strpos(v_part, '/') > 0 THEN p_hi
                ELSE v_from
            END;
        END IF;
        IF v_step < 1 OR v_from < p_lo OR v_to > p_hi OR v_from > v_to THEN
            RETURN NULL;
        END IF;
        v_out := v_out || ARRAY(SELECT pg_catalog.generate_series(v_from, v_to, v_step));
    END LOOP;
    RETURN v_out;
EXCEPTION WHEN invalid_text_representation OR numeric_value_out_of_range THEN
    RETURN NULL;
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.cron_field(text, integer, integer, text[]) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.cron_field(text, integer, integer, text[]) IS
    'The values one cron field allows, or NULL when it is malformed';

CREATE OR REPLACE FUNCTION {{ js }}.cron_fire(
    p_schedule text,
    p_at       timestamptz,
    p_before   boolean DEFAULT false
)
RETURNS timestamptz
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_expr    text := pg_catalog.lower(pg_catalog.btrim(p_schedule));
    v_fields  text[];
    v_minutes integer[];
    v_hours   integer[];
    v_doms    integer[];
    v_months  integer[];
    v_dows    integer[];
    v_either  boolean;
    v_start   timestamp := pg_catalog.date_trunc('day', pg_catalog.timezone('UTC', p_at));
BEGIN
    /* The schedule's first fire after p_at, or with p_before its last fire at or before
       p_at (UTC, as pg_cron 1.4). NULL for @reboot, a malformed schedule, or none within
       about four years. */
    v_expr := CASE v_expr
        WHEN '@hourly' THEN '0 * * * *'
        WHEN '@daily' THEN '0 0 * * *'
        WHEN '@weekly' THEN '0 0 * * 0'
        WHEN '@monthly' THEN '0 0 1 * *'
        WHEN '@yearly' THEN '0 0 1 1 *'
        WHEN '@annually' THEN '0 0 1 1 *'
        ELSE v_expr
    END;
    v_fields := pg_catalog.regexp_split_to_array(v_expr, '\s+');
    IF pg_catalog.cardinality(v_fields) <> 5 THEN
        RETURN NULL;
    END IF;
    v_minutes := {{ js }}.cron_field(v_fields[1], 0, 59);
    v_hours := {{ js }}.cron_field(v_fields[2], 0, 23);
    v_doms := {{ js }}.cron_field(v_fields[3], 1, 31);
    v_months := {{ js }}.cron_field(v_fields[4], 1, 12,
        '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}'::text[]);
    v_dows := {{ js }}.cron_field(v_fields[5], 0, 7, '{sun,mon,tue,wed,thu,fri,sat}'::text[]);
    IF v_minutes IS NULL OR v_hours IS NULL OR v_doms IS NULL OR v_months IS NULL OR v_dows IS NULL THEN
        RETURN NULL;
    END IF;
    IF 7 = ANY (v_dows) THEN
        v_dows := v_dows || 0;  -- 7 is Sunday too
    END IF;
    v_either := NOT (pg_catalog.starts_with(v_fields[3], '*') OR pg_catalog.starts_with(v_fields[5], '*'));
    RETURN (
        SELECT pg_catalog.timezone('UTC', d.day + pg_catalog.make_interval(hours => h.h, mins => m.m)) AS fire
          FROM (
                -- The first two matching days in the direction asked: the first may have
                -- no fire left on the far side of p_at. Unordered and limited, so the
                -- series is read lazily.
                SELECT s.day
                  FROM pg_catalog.generate_series(
                           v_start,
                           v_start + CASE WHEN p_before THEN interval '-1500 days' ELSE interval '1500 days' END,
                           CASE WHEN p_before THEN interval '-1 day' ELSE interval '1 day' END) AS s (day)
                 WHERE EXTRACT(MONTH FROM s.day)::integer = ANY (v_months)
                   AND CASE WHEN v_either
                            THEN EXTRACT(DAY FROM s.day)::integer = ANY (v_doms)
                                 OR EXTRACT(DOW FROM s.day)::integer = ANY (v_dows)
                            ELSE EXTRACT(DAY FROM s.day)::integer = ANY (v_doms)
                                 AND EXTRACT(DOW FROM s.day)::integer = ANY (v_dows)
                       END
                 LIMIT 2
               ) AS d
         CROSS JOIN LATERAL pg_catalog.unnest(v_hours) AS h (h)
         CROSS JOIN LATERAL pg_catalog.unnest(v_minutes) AS m (m)
         WHERE CASE WHEN p_before
                    THEN pg_catalog.timezone('UTC', d.day + pg_catalog.make_interval(hours => h.h, mins => m.m)) <= p_at
                    ELSE pg_catalog.timezone('UTC', d.day + pg_catalog.make_interval(hours => h.h, mins => m.m)) > p_at
               END
         ORDER BY CASE WHEN p_before THEN -EXTRACT(EPOCH FROM d.day + pg_catalog.make_interval(hours => h.h, mins => m.m))
                       ELSE EXTRACT(EPOCH FROM d.day + pg_catalog.make_interval(hours => h.h, mins => m.m)) END
         LIMIT 1
    );
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.cron_fire(text, timestamptz, boolean) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.cron_fire(text, timestamptz, boolean) IS
    'A pg_cron schedule''s next fire after a moment, or its last fire at or before it (UTC)';

-- SECURITY DEFINER: pg_cron shows each role only its own cron jobs (row security on cron.job
-- and cron.job_run_details), so a monitor would see the job set as unscheduled. This shows
-- the job set's own cron jobs of this database (their command calls our run_job), read
-- only, to whoever may execute it (the owner, the monitor), and pins its search_path. The
-- owner role sees every role's rows when it has BYPASSRLS (the deployer gives it that when
-- it can). Without pg_cron in this database it returns nothing.
CREATE OR REPLACE FUNCTION {{ js }}.cron_jobs()
RETURNS TABLE (jobid bigint, jobname text, schedule text, command text, database text, username text,
               active boolean, last_status text, last_start timestamptz, last_end timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    -- pg_cron's tables as found here, named in the query by these values: the names are not
    -- constants, so plpgsql_check (which reads format() with constant arguments) does not
    -- look for tables that only pg_cron's database has.
    v_job     regclass := pg_catalog.to_regclass('cron.job');
    v_details regclass := pg_catalog.to_regclass('cron.job_run_details');
BEGIN
    /* The job set's cron jobs in this database, each with pg_cron's latest run of it. */
    IF v_job IS NULL OR v_details IS NULL THEN
        RETURN;
    END IF;
    FOR jobid, jobname, schedule, command, database, username, active, last_status, last_start, last_end IN
    EXECUTE pg_catalog.format(
        'SELECT j.jobid::bigint, j.jobname::text, j.schedule::text, j.command::text, j.database::text,
                j.username::text, j.active::boolean, d.status::text, d.start_time::timestamptz, d.end_time::timestamptz
           FROM %1$s AS j
           LEFT JOIN LATERAL (SELECT r.status, r.start_time, r.end_time FROM %2$s AS r
                               WHERE r.jobid = j.jobid ORDER BY r.start_time DESC NULLS LAST LIMIT 1) AS d ON true
          WHERE j.database = pg_catalog.current_database() AND pg_catalog.strpos(j.command, $1) > 0
          ORDER BY j.jobid', v_job, v_details)
        USING {{ ('CALL ' ~ js ~ '.run_job(') | literal }}
    LOOP
        RETURN NEXT;
    END LOOP;
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.cron_jobs() FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.cron_jobs() IS
    'SECURITY DEFINER (pg_cron shows each role only its own rows): the job set''s cron jobs here, with their latest pg_cron run';
