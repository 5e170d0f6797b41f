{#
  pg_cron's schedules read inside the database, exactly as pg_cron reads them, so job_health
  and `deployer status` say when a job will next run and whether a run it should have had is
  missing. This follows pg_cron's own C source (src/entry.c's parser, TryParseInterval,
  ShouldRunTask), leniencies included; deployer/cron.py is the same port in Python, and the
  tests hold the two to each other and to a real pg_cron. What pg_cron does, by version:

  - 1.4: five fields in UTC (minute hour day-of-month month day-of-week) or an @macro.
    A field is read up to the first character that cannot continue it and the rest of it
    is skipped (`FRI#5` is every Friday); a range whose end is before its start selects
    nothing (`13-10,22` is 22); anything after the fifth field is ignored; the day test is
    an AND when either day field starts with `*` (`*/2` too), otherwise an OR; 7 is Sunday.
  - 1.5: adds `N seconds` (1 to 59) and cron.timezone, the zone schedules are read in
    (default GMT).
  - 1.6 (1.6.5 and later): adds `$`, the last day of the month (true at a moment when the
    same moment 24 hours later falls on a 1st); refuses a step larger than the field's top
    (`*/60`); sets a reversed range with Vixie's bit_nset (`22-3` in hours is 22, 23, 0-3;
    `13-10`, one byte, is nothing); its @yearly and @annually never fire (their month is
    set from FIRST_MINUTE, 0, which set_element refuses). 1.6.0 and 1.6.1 read every day
    field a day late (the pointer reuse 1.6.2 fixed): not followed here; 1.6.0 to 1.6.4
    also take a step larger than the field's top, which the manifest refuses anyway.

  The version and zone are the server's unless given: pg_cron defines cron.launch_active_jobs
  from 1.6, cron.timezone from 1.5, cron.database_name always (all readable only by
  superusers and pg_read_all_settings: for others, a setting that exists is seen by the
  error reading it raises, and the zone is taken as GMT). Without pg_cron loaded: 1.6's rules.
#}
{% set js = jobs_schema | ident %}
CREATE OR REPLACE FUNCTION {{ js }}.cron_fire(
    p_schedule text,
    p_at       timestamptz,
    p_before   boolean,
    p_zone     text,
    p_version  text DEFAULT NULL
)
RETURNS timestamptz
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_version text := p_version;
    v_zone    text;
    v_text    text;
    v_fields  text[];
    v_minutes bigint;
    v_hours   bigint;
    v_doms    bigint;
    v_months  bigint;
    v_dows    bigint;
    v_last    boolean := false;  -- `$`
    v_and     boolean;           -- the day test: both day fields, or either
    v_reboot  boolean := false;
    v_days    boolean;           -- some day of the calendar matches
    v_seconds numeric;
    v_hrs     integer[];         -- the hours the schedule allows, in the order searched
    v_mins    integer[];         -- its minutes, likewise
    v_day0    timestamp;
    v_row     record;
BEGIN
    /* The first moment after p_at when pg_cron starts the schedule, or with p_before the
       last at or before p_at: a minute start, read in p_zone (1.5+; 1.4 reads UTC whatever
       is given) under p_version's rules; NULL (either) for the server's. An `N seconds`
       schedule starts N seconds after its previous start: its next fire is p_at + N
       seconds, its last one p_at (one is always due). NULL for @reboot, for what pg_cron
       refuses, and for a schedule that never fires. */
    IF v_version IS NULL THEN
        v_version := '1.6';  -- pg_cron not loaded: its newest rules
        FOR v_row IN SELECT * FROM (VALUES ('cron.launch_active_jobs', '1.6'), ('cron.timezone', '1.5'),
                                           ('cron.database_name', '1.4')) AS g (setting, since) LOOP
            BEGIN
                CONTINUE WHEN pg_catalog.current_setting(v_row.setting, true) IS NULL;
            EXCEPTION WHEN insufficient_privilege THEN
                NULL;  -- it exists, hidden from this role
            END;
            v_version := v_row.since;
            EXIT;
        END LOOP;
    ELSIF v_version NOT IN ('1.4', '1.5', '1.6') THEN
        RAISE EXCEPTION 'unknown pg_cron version %: 1.4, 1.5 or 1.6', v_version USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF v_version < '1.5' THEN
        v_zone := 'UTC';
    ELSE
        v_zone := p_zone;
        IF v_zone IS NULL THEN
            BEGIN
                v_zone := pg_catalog.current_setting('cron.timezone', true);
            EXCEPTION WHEN insufficient_privilege THEN
                v_zone := NULL;
            END;
        END IF;
        v_zone := coalesce(v_zone, 'GMT');
    END IF;

    -- The schedule: blank lines and # comment lines first are skipped; then an @macro
    -- (its word ends at a blank or newline), or five fields, each up to a blank or
    -- newline, blanks between them. 999 bytes at most.
    v_text := pg_catalog.regexp_replace(p_schedule, '^([ \t]*(#[^\n]*)?\n)*[ \t]*', '');
    IF pg_catalog.octet_length(p_schedule) >= 1000 THEN
        v_minutes := NULL;
    ELSIF pg_catalog.starts_with(v_text, '@') THEN
        CASE pg_catalog.substring(v_text, '^@([^ \t\n]*)')
            WHEN 'reboot', 'restart' THEN
                v_reboot := true;
                v_minutes := 0;
            WHEN 'yearly', 'annually' THEN
                SELECT 1, 1, 1, CASE WHEN v_version >= '1.6' THEN 0 ELSE 1 END, 255, true
                  INTO v_minutes, v_hours, v_doms, v_months, v_dows, v_and;
            WHEN 'monthly' THEN
                SELECT 1, 1, 1, 4095, 255, true INTO v_minutes, v_hours, v_doms, v_months, v_dows, v_and;
            WHEN 'weekly' THEN
                SELECT 1, 1, 2147483647, 4095, 129, true INTO v_minutes, v_hours, v_doms, v_months, v_dows, v_and;
            WHEN 'daily', 'midnight' THEN
                SELECT 1, 1, 2147483647, 4095, 255, false INTO v_minutes, v_hours, v_doms, v_months, v_dows, v_and;
            WHEN 'hourly' THEN
                SELECT 1, 16777215, 2147483647, 4095, 255, false INTO v_minutes, v_hours, v_doms, v_months, v_dows, v_and;
            ELSE
                v_minutes := NULL;
        END CASE;
    ELSE
        v_fields := pg_catalog.regexp_match(v_text,
            '^([^ \t\n]*)[ \t]*([^ \t\n]*)[ \t]*([^ \t\n]*)[ \t]*([^ \t\n]*)[ \t]*([^ \t\n]*)');
        v_minutes := {{ js }}.cron_field(v_fields[1], 0, 59, NULL, v_version);
        v_hours := {{ js }}.cron_field(v_fields[2], 0, 23, NULL, v_version);
        IF v_fields[3] = '$' AND v_version >= '1.6' THEN
            v_doms := 0;
            v_last := true;
        ELSE
            v_doms := {{ js }}.cron_field(v_fields[3], 1, 31, NULL, v_version);
        END IF;
        v_months := {{ js }}.cron_field(v_fields[4], 1, 12,
            '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}'::text[], v_version);
        v_dows := {{ js }}.cron_field(v_fields[5], 0, 7, '{sun,mon,tue,wed,thu,fri,sat,sun}'::text[], v_version);
        IF v_dows & 129 <> 0 THEN
            v_dows := v_dows | 129;  -- 0 and 7 are Sunday
        END IF;
        v_and := pg_catalog.starts_with(v_fields[3], '*') OR pg_catalog.starts_with(v_fields[5], '*');
        IF v_hours IS NULL OR v_doms IS NULL OR v_months IS NULL OR v_dows IS NULL THEN
            v_minutes := NULL;
        END IF;
    END IF;

    IF v_minutes IS NULL THEN
        -- Not a cron schedule: from 1.5, `N seconds` (sscanf's " %u secon%c%c %c").
        v_fields := pg_catalog.regexp_match(
            pg_catalog.translate(p_schedule, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
            '^[ \t\n\v\f\r]*([+-]?)([0-9]+)[ \t\n\v\f\r]*second(s[ \t\n\v\f\r]*)?$');
        IF v_version < '1.5' OR v_fields IS NULL THEN
            RETURN NULL;
        END IF;
        -- strtoul, stored in an unsigned int.
        v_seconds := pg_catalog.mod(CASE
            WHEN v_fields[2]::numeric > 18446744073709551615 THEN 18446744073709551615
            WHEN v_fields[1] = '-' THEN pg_catalog.mod(18446744073709551616 - v_fields[2]::numeric, 18446744073709551616)
            ELSE v_fields[2]::numeric END, 4294967296);
        IF v_seconds NOT BETWEEN 1 AND 59 THEN
            RETURN NULL;
        END IF;
        RETURN CASE WHEN p_before THEN p_at ELSE p_at + pg_catalog.make_interval(secs => v_seconds) END;
    END IF;

    -- Never fires: no minute, hour or month, or no day of the 400-year calendar (a day of
    -- the month that no allowed month has, in an AND with the days of the week, or alone).
    v_days := v_last OR v_doms & 2147483647 & (CASE WHEN v_months & 2773 <> 0 THEN 2147483647 ELSE 0 END  -- 31 days
                                               | CASE WHEN v_months & 1320 <> 0 THEN 1073741823 ELSE 0 END  -- 30
                                               | CASE WHEN v_months & 2 <> 0 THEN 536870911 ELSE 0 END) <> 0;  -- 29
    v_days := CASE WHEN v_and THEN v_days AND v_dows & 127 <> 0 ELSE v_days OR v_dows & 127 <> 0 END;
    IF v_reboot OR NOT v_days OR v_minutes & 1152921504606846975 = 0 OR v_hours & 16777215 = 0
       OR v_months & 4095 = 0 THEN
        RETURN NULL;
    END IF;

    v_hrs := ARRAY(SELECT g.h FROM pg_catalog.generate_series(0, 23) AS g (h) WHERE (v_hours >> g.h) & 1 = 1
                    ORDER BY CASE WHEN p_before THEN -g.h ELSE g.h END);
    v_mins := ARRAY(SELECT g.m FROM pg_catalog.generate_series(0, 59) AS g (m) WHERE (v_minutes >> g.m) & 1 = 1
                     ORDER BY CASE WHEN p_before THEN -g.m ELSE g.m END);
    -- From the day before p_at's local day (after it, for p_before): a clock set back over
    -- midnight shows a later moment an earlier date.
    v_day0 := pg_catalog.date_trunc('day', pg_catalog.timezone(v_zone, p_at))
              + CASE WHEN p_before THEN interval '1 day' ELSE interval '-1 day' END;
    RETURN (
        -- Local days from p_at's, in the direction asked, read lazily (unordered, limited):
        -- a day whose month and day fields may match (`$`: the month's last two days and
        -- its first, when a clock set back makes the 1st 25 hours long), then its fires, for each UTC offset the day has (two where the clock
        -- changes), each the first minute in the direction asked whose instant reads back
        -- as that wall-clock time (a skipped one does not, one that comes twice has two)
        -- and, for `$`, whose moment 24 hours on falls on a 1st.
        SELECT f.fire
          FROM (SELECT pg_catalog.generate_series(  -- in the select list: read lazily, not materialized
                           v_day0,
                           v_day0 + CASE WHEN p_before THEN interval '-146463 days' ELSE interval '146463 days' END,
                           CASE WHEN p_before THEN interval '-1 day' ELSE interval '1 day' END) AS day) AS d
         CROSS JOIN LATERAL (
               SELECT CASE WHEN p_before THEN pg_catalog.max(c.t) ELSE pg_catalog.min(c.t) END AS fire
                 FROM (SELECT DISTINCT pg_catalog.timezone('UTC', d.day - (pg_catalog.timezone(v_zone, s.x)
                                                                           - pg_catalog.timezone('UTC', s.x))) AS midnight
                         FROM (VALUES (pg_catalog.timezone(v_zone, d.day)),
                                      (pg_catalog.timezone(v_zone, d.day + interval '1 day'))) AS s (x)) AS o
                CROSS JOIN LATERAL (
                      SELECT w.t
                        FROM pg_catalog.unnest(v_hrs) AS h (h)
                       CROSS JOIN LATERAL (
                             SELECT o.midnight + (h.h * 60 + m.m) * interval '1 minute' AS t
                               FROM pg_catalog.unnest(v_mins) AS m (m)
                              WHERE CASE WHEN p_before THEN o.midnight + (h.h * 60 + m.m) * interval '1 minute' <= p_at
                                         ELSE o.midnight + (h.h * 60 + m.m) * interval '1 minute' > p_at END
                                AND pg_catalog.timezone(v_zone, o.midnight + (h.h * 60 + m.m) * interval '1 minute')
                                    = d.day + (h.h * 60 + m.m) * interval '1 minute'
                                AND (NOT v_last
                                     OR EXTRACT(DAY FROM pg_catalog.timezone(
                                            v_zone, o.midnight + (h.h * 60 + m.m + 1440) * interval '1 minute')) = 1
                                     OR NOT v_and AND (v_dows >> EXTRACT(DOW FROM d.day)::integer) & 1 = 1)
                              LIMIT 1) AS w
                       -- an hour with no minute on the far side of p_at is passed over unread
                       WHERE CASE WHEN p_before THEN o.midnight + h.h * interval '1 hour' <= p_at
                                  ELSE o.midnight + (h.h * 60 + 59) * interval '1 minute' > p_at END
                       LIMIT 1) AS c
              ) AS f
         WHERE (v_months >> (EXTRACT(MONTH FROM d.day)::integer - 1)) & 1 = 1
           AND CASE WHEN v_and
                    THEN (v_last AND (EXTRACT(MONTH FROM d.day + interval '2 days') <> EXTRACT(MONTH FROM d.day) OR EXTRACT(DAY FROM d.day) = 1)
                          OR (v_doms >> (EXTRACT(DAY FROM d.day)::integer - 1)) & 1 = 1)
                         AND (v_dows >> EXTRACT(DOW FROM d.day)::integer) & 1 = 1
                    ELSE v_last AND (EXTRACT(MONTH FROM d.day + interval '2 days') <> EXTRACT(MONTH FROM d.day) OR EXTRACT(DAY FROM d.day) = 1)
                         OR (v_doms >> (EXTRACT(DAY FROM d.day)::integer - 1)) & 1 = 1
                         OR (v_dows >> EXTRACT(DOW FROM d.day)::integer) & 1 = 1
               END
           AND f.fire IS NOT NULL
         LIMIT 1
    );
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.cron_fire(text, timestamptz, boolean, text, text) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.cron_fire(text, timestamptz, boolean, text, text) IS
    'A pg_cron schedule''s next fire after a moment, or its last at or before it, as pg_cron p_version (NULL: the server''s) reads it in p_zone (NULL: cron.timezone)';

CREATE OR REPLACE FUNCTION {{ js }}.cron_fire(
    p_schedule text,
    p_at       timestamptz,
    p_before   boolean DEFAULT false
)
RETURNS timestamptz
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    /* cron_fire for this server's pg_cron and its cron.timezone. */
    SELECT {{ js }}.cron_fire(p_schedule, p_at, p_before, NULL::text, NULL::text)
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.cron_fire(text, timestamptz, boolean) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.cron_fire(text, timestamptz, boolean) IS
    'A pg_cron schedule''s next fire after a moment, or its last at or before it, as this server''s pg_cron reads it';
