{#
  calculate_badges (docs/rules.md: The week, The jobs, Boundaries): who holds each of the
  eight weekly badges in the week of p_now, applied to user_badges as a diff with one
  badge_history row per change, then user_effect_tiers from the active badge count. The
  rules and the diff are docs/rules.md's; here, where it is silent: sharp's rate is compared
  in integers (wins * 100 >= rate * settled: 69.9 % is not 70 %); sunday_sweep's Sunday is
  the calendar day in `timezone` (23 or 25 hours when DST changes); a badge's week is its
  week_start_date, or the week of its earned_at when that is NULL.
  Batches walk users in id order; profit_king ranks against the week's best profit, which
  the first batch computes and passes on in `next`, so an interrupted run ends where an
  uninterrupted one does. user_effect_tiers is the job set's table (SnapBet lacks it).

  Which users a run examines (docs/rules.md: calculate_badges, "Which users a run looks
  at"). A complete real run records its state in jobs.job_state: its now, its moment (now,
  never later than the clock), the week's best profit and a stamp of the badge tables (the
  week, the count of active badges, the sum of user_effect_tiers.badge_count). The next run
  of the same week, at the same moment or later, whose stamp still matches, examines only
  the users whose badges can have changed since that moment less `lag`:
    bettors of bets graded since, authors of picks whose tails or fades were settled since
      (macros/followed.sql: settled_since): every bet badge, riding_wave, fade_god;
    authors of posts created since: most_active, ghost lost;
    authors of posts created `ghost_after` before the window, whose silence can have
      reached ghost_after meanwhile: ghost gained;
    holders of profit_king (a bigger profit elsewhere takes it from them), and holders of
      ghost without any post left (hard deleted: no longer "a post ever").
  The run's first batch lists them (sorted, carried in `next`); the batches walk the list.
  The week's best profit is then the recorded one or a bigger one among the bettors above,
  as long as a holder of it is not among them (that profit did not move) or it was not above
  0 (every other profit is at most that); otherwise it is read from the week's bets again,
  with who has it, and they are examined too. (A recorded best above 0 is exact and its
  holders hold profit_king; one at or below 0 is only known to bound every profit.)
  Anything else (a new week, an earlier now, a stamp that changed: badges deleted or
  restored by hand) makes the run examine every user, as a first run does, and a real one
  drops the state at once, so that a run stopped before the end starts over. What a window
  cannot see: bets, posts or pick actions changed by hand with stamps older than the
  window; deleting the job's row of jobs.job_state makes the next run examine everyone.
  Not on Citus, which examines every user each run (docs/citus.md).
  Variables: app_schema, jobs_schema, timezone, the badges' thresholds, nfl_sport.
#}
{% from "macros/job_function.sql" import job_function with context %}
{% from "macros/job_result.sql" import job_result %}
{% from "macros/take.sql" import take, take_users with context %}
{% from "macros/position.sql" import position %}
{% from "macros/week.sql" import week_locals with context %}
{% from "macros/user_table.sql" import user_table with context %}
{% from "macros/followed.sql" import followed, settled_since with context %}
{% set app = app_schema | ident %}
{% set js = jobs_schema | ident %}
{# How far before the last complete run's moment a run looks again: longer than settle_games'
   time budget and the app's transactions, so that one committing late is still seen. #}
{% set lag = '1 hour' %}
{% set badges = ['hot_streak', 'profit_king', 'riding_wave', 'sharp', 'fade_god', 'most_active', 'ghost',
                 'sunday_sweep'] %}
{{ user_table('user_effect_tiers',
    'Effect tier per user (0, 1, 2) from the weekly badges, kept by the snapbet job set (jobs.calculate_badges)') }}
ALTER TABLE {{ app }}.user_effect_tiers
    ADD COLUMN IF NOT EXISTS tier        smallint    NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS badge_count integer     NOT NULL DEFAULT 0;

{#
  (user_id, badge_id) for every badge the users in `ids` qualify for in the week of p_now,
  as CTEs ending in `qualified`. Needs v_week_start, v_week_end, v_sunday, v_best.
#}
{% macro qualified(ids) -%}
week_bets AS (
{% if citus %}
            SELECT b.user_id, b.id, b.status, b.actual_win, b.created_at,
                   b.created_at >= v_sunday AND g.sport = {{ nfl_sport | literal }} AS sunday_nfl
              FROM {{ app }}.bets AS b
              JOIN {{ app }}.games AS g ON g.id = b.game_id
{% else %}
            -- A bet's game (game_id is NOT NULL, a foreign key) is read only for the bets
            -- made since the week's Sunday, not joined to every bet of the batch's users.
            SELECT b.user_id, b.id, b.status, b.actual_win, b.created_at,
                   CASE WHEN b.created_at >= v_sunday
                        THEN (SELECT g.sport = {{ nfl_sport | literal }} FROM {{ app }}.games AS g
                               WHERE g.id = b.game_id)
                        ELSE false END AS sunday_nfl
              FROM {{ app }}.bets AS b
{% endif %}
             WHERE b.user_id = ANY ({{ ids }})
               -- The week's test is kept out of idx_bets_created's reach (IS TRUE): a generic
               -- plan, which takes a range of parameters for a small share of the table,
               -- intersected the users' bets with every bet of the week, in every batch.
               AND (b.created_at >= v_week_start AND b.created_at < v_week_end) IS TRUE
        ), bettors AS (
            SELECT w.user_id,
                   pg_catalog.count(*) FILTER (WHERE w.status IN ('won', 'lost')) AS settled,
                   pg_catalog.count(*) FILTER (WHERE w.status = 'won') AS wins,
                   pg_catalog.count(*) FILTER (WHERE w.status IN ('won', 'lost', 'push')) AS graded,
                   coalesce(pg_catalog.sum(w.actual_win) FILTER (WHERE w.status IN ('won', 'lost', 'push')), 0) AS net,
                   (pg_catalog.array_agg(w.status ORDER BY w.created_at DESC, w.id DESC)
                        FILTER (WHERE w.status IN ('won', 'lost')))[1:{{ hot_streak_min | integer }}] AS latest,
                   pg_catalog.count(*) FILTER (WHERE w.sunday_nfl AND w.status IN ('won', 'lost')) AS sunday_settled,
                   pg_catalog.count(*) FILTER (WHERE w.sunday_nfl AND w.status = 'lost') AS sunday_lost
              FROM week_bets AS w
             GROUP BY w.user_id
        ), followed AS (
            -- Net profit others made this week tailing / fading each author's picks.
{{ followed(ids) }}
{% if citus %}
        ), posters AS (
            SELECT u.user_id, coalesce(s.picks, 0) AS picks, coalesce(s.posted_before, false) AS posted_before,
                   coalesce(s.posted_lately, false) AS posted_lately
              FROM pg_catalog.unnest({{ ids }}) AS u (user_id)
              LEFT JOIN (
                    SELECT p.user_id,
                           pg_catalog.count(*) FILTER (WHERE p.post_type = 'pick' AND p.created_at >= v_week_start
                                                         AND p.created_at < v_week_end) AS picks,
                           pg_catalog.bool_or(p.created_at <= p_now - {{ ghost_after | interval }}) AS posted_before,
                           pg_catalog.bool_or(p.created_at > p_now - {{ ghost_after | interval }}
                                              AND p.created_at <= p_now) AS posted_lately
                      FROM {{ app }}.posts AS p
                     WHERE p.user_id = ANY ({{ ids }})
                     GROUP BY p.user_id) AS s ON s.user_id = u.user_id
{% else %}
        ), posters AS (
            SELECT u.user_id,
                   (SELECT pg_catalog.count(*) FROM {{ app }}.posts AS p
                     WHERE p.user_id = u.user_id AND p.post_type = 'pick'
                       AND p.created_at >= v_week_start AND p.created_at < v_week_end) AS picks,
                   -- Probes per user (LIMIT 1): as EXISTS they were planned as a hash of
                   -- every old post, for every batch.
                   (SELECT true FROM {{ app }}.posts AS p
                     WHERE p.user_id = u.user_id AND p.created_at <= p_now - {{ ghost_after | interval }}
                     LIMIT 1) IS NOT NULL AS posted_before,
                   (SELECT true FROM {{ app }}.posts AS p
                     WHERE p.user_id = u.user_id AND p.created_at > p_now - {{ ghost_after | interval }}
                       AND p.created_at <= p_now
                     LIMIT 1) IS NOT NULL AS posted_lately
              FROM pg_catalog.unnest({{ ids }}) AS u (user_id)
{% endif %}
        ), qualified AS (
            SELECT b.user_id, 'hot_streak'::text AS badge_id FROM bettors AS b
             WHERE pg_catalog.cardinality(b.latest) = {{ hot_streak_min | integer }}
               AND 'won' = ALL (b.latest)
            UNION ALL
            SELECT b.user_id, 'profit_king' FROM bettors AS b
             WHERE b.graded > 0 AND v_best > 0 AND b.net = v_best
            UNION ALL
            SELECT f.user_id, 'riding_wave' FROM followed AS f WHERE f.tails > 0
            UNION ALL
            SELECT b.user_id, 'sharp' FROM bettors AS b
             WHERE b.settled >= {{ sharp_min_bets | integer }}
               AND b.wins * 100 >= {{ sharp_win_rate | integer }} * b.settled
            UNION ALL
            SELECT f.user_id, 'fade_god' FROM followed AS f WHERE f.fades > 0
            UNION ALL
            SELECT p.user_id, 'most_active' FROM posters AS p WHERE p.picks >= {{ most_active_picks | integer }}
            UNION ALL
            SELECT p.user_id, 'ghost' FROM posters AS p WHERE p.posted_before AND NOT p.posted_lately
            UNION ALL
            SELECT b.user_id, 'sunday_sweep' FROM bettors AS b
             WHERE b.sunday_settled >= {{ sunday_sweep_min | integer }} AND b.sunday_lost = 0
{% if citus %}
        ), active AS (
            SELECT ub.user_id, ub.badge_id, ub.earned_at,
                   coalesce(ub.week_start_date = v_week_date,
                            ub.earned_at >= v_week_start AND ub.earned_at < v_week_end) AS this_week
              FROM {{ app }}.user_badges AS ub
             WHERE ub.user_id = ANY ({{ ids }}) AND ub.lost_at IS NULL
{% else %}
        ), active AS (
            -- The users' active badges, and whether each is of this week; probed per user
            -- (OFFSET 0), not a scan of every badge for every batch.
            SELECT ub.user_id, ub.badge_id, ub.earned_at,
                   coalesce(ub.week_start_date = v_week_date,
                            ub.earned_at >= v_week_start AND ub.earned_at < v_week_end) AS this_week
              FROM pg_catalog.unnest({{ ids }}) AS u (user_id)
             CROSS JOIN LATERAL (SELECT b.* FROM {{ app }}.user_badges AS b
                                  WHERE b.user_id = u.user_id AND b.lost_at IS NULL OFFSET 0) AS ub
{% endif %}
        ), changes AS (
            SELECT a.user_id, a.badge_id, a.earned_at, 'expired' AS change
              FROM active AS a
             WHERE NOT a.this_week
            UNION ALL
            SELECT a.user_id, a.badge_id, a.earned_at, 'revoked'
              FROM active AS a
             WHERE a.this_week
               AND NOT EXISTS (SELECT FROM qualified AS q WHERE q.user_id = a.user_id AND q.badge_id = a.badge_id)
            UNION ALL
            SELECT q.user_id, q.badge_id, p_now, 'awarded'
              FROM qualified AS q
             WHERE NOT EXISTS (SELECT FROM active AS a
                                WHERE a.this_week AND a.user_id = q.user_id AND a.badge_id = q.badge_id)
        ), tiers AS (
            SELECT u.user_id, coalesce(n.badges, 0) AS badges,
                   CASE WHEN n.badges >= {{ tier_two_badges | integer }} THEN 2 WHEN n.badges >= 1 THEN 1 ELSE 0 END AS tier
              FROM pg_catalog.unnest({{ ids }}) AS u (user_id)
              LEFT JOIN (SELECT q.user_id, pg_catalog.count(*) AS badges FROM qualified AS q GROUP BY q.user_id) AS n
                ON n.user_id = u.user_id
{% if citus %}
        ), tiers_now AS (
            SELECT x.user_id, x.tier, x.badge_count FROM {{ app }}.user_effect_tiers AS x
             WHERE x.user_id = ANY ({{ ids }})
        ), tier_changes AS (
            SELECT t.user_id, t.badges, t.tier
              FROM tiers AS t
              LEFT JOIN tiers_now AS e ON e.user_id = t.user_id
             WHERE coalesce(e.tier, 0) <> t.tier OR (e.user_id IS NOT NULL AND e.badge_count <> t.badges)
{% else %}
        ), tier_changes AS (
            SELECT t.user_id, t.badges, t.tier
              FROM tiers AS t
              LEFT JOIN LATERAL (SELECT x.user_id, x.tier, x.badge_count FROM {{ app }}.user_effect_tiers AS x
                                  WHERE x.user_id = t.user_id OFFSET 0) AS e ON true
             WHERE coalesce(e.tier, 0) <> t.tier OR (e.user_id IS NOT NULL AND e.badge_count <> t.badges)
{% endif %}
        )
{%- endmacro %}
{#
  The details document from `qualified`, `changes` and a count of tier changes.
#}
{% macro figures(tier_changes) -%}
pg_catalog.jsonb_build_object(
{% for badge in badges %}
                   {{ badge | literal }}, pg_catalog.jsonb_build_object(
                       'holders', (SELECT pg_catalog.count(*) FROM qualified AS q WHERE q.badge_id = {{ badge | literal }}),
                       'awarded', (SELECT pg_catalog.count(*) FROM changes AS c
                                    WHERE c.badge_id = {{ badge | literal }} AND c.change = 'awarded'),
                       'revoked', (SELECT pg_catalog.count(*) FROM changes AS c
                                    WHERE c.badge_id = {{ badge | literal }} AND c.change = 'revoked')),
{% endfor %}
                   'expired', (SELECT pg_catalog.count(*) FROM changes AS c WHERE c.change = 'expired'),
                   'tier_changes', {{ tier_changes }})
{%- endmacro %}
{% set week_declare %}
{{ week_locals() }}
    -- The week's Sunday in `timezone`: from Sunday 00:00 to Monday 00:00 local time.
    v_sunday     timestamptz := pg_catalog.timezone({{ timezone | literal }},
                                   pg_catalog.timezone({{ timezone | literal }}, v_week_start) + interval '6 days');
{% endset %}
{#
  The week's best net profit among users with a won, lost or pushed bet in it, and who has it.
#}
{% macro best_profit(kings=true) %}
        WITH s AS (
            SELECT b.user_id, pg_catalog.sum(b.actual_win) AS net
              FROM {{ app }}.bets AS b
             WHERE b.created_at >= v_week_start AND b.created_at < v_week_end
               AND b.status IN ('won', 'lost', 'push')
             GROUP BY b.user_id
        )
        SELECT m.best{% if kings %}, ARRAY(SELECT s.user_id FROM s WHERE s.net = m.best){% endif %}
          INTO v_best{% if kings %}, v_kings{% endif %}
          FROM (SELECT pg_catalog.max(s.net) AS best FROM s) AS m;
{%- endmacro %}
{#
  What a complete run leaves behind it, read by the next run to tell whether the badge
  tables still hold what the runs wrote: the week, the active badges, the tiers' count.
#}
{% set stamp %}
SELECT pg_catalog.jsonb_build_array(
                   v_week_date,
                   (SELECT pg_catalog.count(*) FROM {{ app }}.user_badges AS b WHERE b.lost_at IS NULL),
                   (SELECT coalesce(pg_catalog.sum(t.badge_count), 0) FROM {{ app }}.user_effect_tiers AS t))
{%- endset %}
{% set declare %}
{{ week_declare }}
    v_best       bigint;
    v_from       uuid        := {{ position('users', 'uuid') }};
    v_ids        uuid[];
    v_tiers      bigint;
    v_since      timestamptz;
    v_state      jsonb;
    v_top        bigint;
    v_kept       boolean;
    v_kings      uuid[]      := '{}'::uuid[];
    v_due        uuid[];
{% endset %}
{% call job_function("calculate_badges", declare) %}
{% if not citus %}
    -- The function's force_custom_plan (macros/job_function.sql) made every batch plan its
    -- ~200-line statement anew with the batch's users as a constant array, which the planner
    -- estimates element by element: a third of the run's time at 100,000 users (bench/README.md:
    -- generic plans for calculate_badges and settle_games). Its reads are probes by the
    -- batch's users whatever the plan (LATERAL ... OFFSET 0, `= ANY`), so after five
    -- batches PL/pgSQL may keep a generic one.
    PERFORM pg_catalog.set_config('plan_cache_mode', 'auto', true);
{% endif %}
    -- The run's window and the week's best profit, fixed by its first batch and carried in `next`.
    IF v_after ? 'best' THEN
        v_best := (v_after ->> 'best')::bigint;
        v_since := (v_after ->> 'since')::timestamptz;
        v_kings := ARRAY(SELECT e.k::uuid FROM pg_catalog.jsonb_array_elements_text(v_after -> 'kings') AS e (k));
        v_due := (v_after ->> 'due')::uuid[];
    ELSE
{% if not citus %}
        SELECT s.state INTO v_state FROM {{ js }}.job_state AS s WHERE s.job_name = 'calculate_badges';
        IF v_state IS NOT NULL AND v_state -> 'stamp' OPERATOR(pg_catalog.=) ({{ stamp }})
           AND (v_state ->> 'now')::timestamptz <= p_now THEN
            v_since := (v_state ->> 'moment')::timestamptz - {{ lag | interval }};
        ELSIF v_state IS NOT NULL THEN
            IF v_state -> 'stamp' -> 0 OPERATOR(pg_catalog.=) pg_catalog.to_jsonb(v_week_date) THEN
                -- Same week, yet the badge tables no longer hold what the runs wrote.
                v_after := v_after || pg_catalog.jsonb_build_object('rebuild', true);
            END IF;
            IF NOT p_dry_run THEN  -- dropped now, so a run stopped before the end starts over
                DELETE FROM {{ js }}.job_state AS s WHERE s.job_name = 'calculate_badges';
            END IF;
        END IF;
        IF v_since IS NOT NULL THEN
            -- The best profit moves only by the bettors of the window.
            WITH moved AS (
                SELECT DISTINCT b.user_id FROM {{ app }}.bets AS b
                 WHERE b.settled_at > v_since AND b.status IN ('won', 'lost', 'push')
            )
            SELECT (SELECT pg_catalog.max(n.net)
                      FROM moved AS m
                     CROSS JOIN LATERAL (SELECT pg_catalog.sum(b.actual_win) AS net FROM {{ app }}.bets AS b
                                          WHERE b.user_id = m.user_id AND b.status IN ('won', 'lost', 'push')
                                            AND b.created_at >= v_week_start AND b.created_at < v_week_end) AS n),
                   EXISTS (SELECT FROM {{ app }}.user_badges AS ub
                            WHERE ub.badge_id = 'profit_king' AND ub.lost_at IS NULL
                              AND ub.user_id NOT IN (SELECT m.user_id FROM moved AS m))
              INTO v_top, v_kept;
            v_best := (v_state ->> 'best')::bigint;
            IF v_best IS NULL OR v_best <= 0 OR v_kept OR v_top >= v_best THEN
                v_best := GREATEST(v_best, v_top);
            ELSE
                -- Every holder moved and the best fell: read it again, with whoever holds it
                -- now (examined below, though nothing of theirs moved).
{{ best_profit() | indent(8) }}
            END IF;
        ELSE
{{ best_profit() }}
        END IF;
{% else %}
{{ best_profit() }}
{% endif %}
{% if not citus %}
        IF v_since IS NOT NULL THEN
            -- Who can have changed, once per run (read again by every batch, it cost ~250 ms a
            -- batch after a big settlement: bench/README.md, Figures: simulate); carried in
            -- `next` as the text of a sorted uuid[].
            v_due := ARRAY(SELECT d.user_id
                             FROM ({{ settled_since('v_since') }}
                               UNION
                               SELECT p.user_id FROM {{ app }}.posts AS p WHERE p.created_at > v_since
                               UNION
                               SELECT p.user_id FROM {{ app }}.posts AS p
                                WHERE p.created_at > v_since - {{ ghost_after | interval }}
                                  AND p.created_at <= p_now - {{ ghost_after | interval }}
                               UNION
                               SELECT k.user_id FROM pg_catalog.unnest(v_kings) AS k (user_id)
                               UNION
                               SELECT ub.user_id FROM {{ app }}.user_badges AS ub
                                WHERE ub.badge_id = 'profit_king' AND ub.lost_at IS NULL
                               UNION
                               SELECT ub.user_id FROM {{ app }}.user_badges AS ub
                                WHERE ub.badge_id = 'ghost' AND ub.lost_at IS NULL
                                  AND NOT EXISTS (SELECT FROM {{ app }}.posts AS p WHERE p.user_id = ub.user_id)
                              ) AS d
                            ORDER BY d.user_id);
            v_after := v_after || pg_catalog.jsonb_build_object('due', v_due::text);
        END IF;
{% endif %}
        v_after := v_after || pg_catalog.jsonb_build_object('best', v_best, 'since', v_since, 'kings', v_kings,
                                                            'moment', LEAST(p_now, pg_catalog.now()));
    END IF;

    -- The batch's users, in id order after the previous batch's last one: every user, or
    -- those whose badges can have changed since v_since (the header).
{% if not citus %}
    IF v_since IS NULL THEN
{% endif %}
{{ take_users() }}
{% if not citus %}
    ELSE
{% call take('users', 'v_ids', 'uuid') %}
SELECT d.user_id FROM pg_catalog.unnest(v_due) AS d (user_id)
                 WHERE v_from IS NULL OR d.user_id > v_from
                 ORDER BY d.user_id
                 LIMIT v_left
{% endcall %}
    END IF;
{% endif %}
    IF p_dry_run THEN
        WITH {{ qualified('v_ids') }}
        SELECT {{ figures('(SELECT pg_catalog.count(*) FROM tier_changes)') }}
          INTO v_details;
        v_tiers := (v_details ->> 'tier_changes')::bigint;
    ELSE
        WITH {{ qualified('v_ids') }}, lost AS (
            UPDATE {{ app }}.user_badges AS ub
               SET lost_at = p_now
              FROM changes AS c
             WHERE c.change IN ('expired', 'revoked')
               AND ub.user_id = c.user_id AND ub.badge_id = c.badge_id AND ub.earned_at = c.earned_at
               AND ub.lost_at IS NULL
            RETURNING ub.user_id, ub.badge_id
        ), earned AS (
            INSERT INTO {{ app }}.user_badges AS ub (user_id, badge_id, earned_at, week_start_date, weekly_reset_at)
            SELECT c.user_id, c.badge_id, p_now, v_week_date, v_week_end
              FROM changes AS c
             WHERE c.change = 'awarded'
            -- Revoked and earned again by a run at the same moment: the same row, active again.
            ON CONFLICT (user_id, badge_id, earned_at) DO UPDATE SET lost_at = NULL
            RETURNING ub.user_id, ub.badge_id
        ), logged AS (
            INSERT INTO {{ app }}.badge_history (user_id, badge_id, action, created_at)
            SELECT l.user_id, l.badge_id, 'lost', p_now FROM lost AS l
            UNION ALL
            SELECT e.user_id, e.badge_id, 'earned', p_now FROM earned AS e
        ), tiered AS (
            INSERT INTO {{ app }}.user_effect_tiers AS e (user_id, tier, badge_count, updated_at)
            SELECT t.user_id, t.tier, t.badges, p_now FROM tier_changes AS t
            ON CONFLICT (user_id) DO UPDATE
               SET tier = EXCLUDED.tier, badge_count = EXCLUDED.badge_count, updated_at = EXCLUDED.updated_at
            RETURNING e.user_id
        )
        SELECT {{ figures('(SELECT pg_catalog.count(*) FROM tiered)') }},
               (SELECT pg_catalog.count(*) FROM lost) + (SELECT pg_catalog.count(*) FROM earned),
               (SELECT pg_catalog.count(*) FROM changes)
          INTO v_details, v_n, v_seen;
        IF v_n <> v_seen THEN
            -- Another writer changed these users' badges since this statement's snapshot.
            RAISE EXCEPTION 'calculate_badges: % badge changes planned, % made', v_seen, v_n
                USING ERRCODE = '40001', HINT = 'the runner retries the batch';
        END IF;
        v_tiers := (v_details ->> 'tier_changes')::bigint;
    END IF;
    v_n := v_tiers + (v_details ->> 'expired')::bigint
{% for badge in badges %}
           + (v_details -> {{ badge | literal }} ->> 'awarded')::bigint
           + (v_details -> {{ badge | literal }} ->> 'revoked')::bigint
{% endfor %}
           ;
    v_details := v_details || pg_catalog.jsonb_build_object('users', pg_catalog.cardinality(v_ids))
                 || pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('rebuild', v_after -> 'rebuild'));
{% if not citus %}
    IF NOT p_dry_run AND NOT v_more THEN
        -- Complete: what the next run's window starts from (the header).
        INSERT INTO {{ js }}.job_state AS s (job_name, state, updated_at)
        VALUES ('calculate_badges',
                pg_catalog.jsonb_build_object('now', p_now, 'moment', v_after -> 'moment', 'best', v_best,
                                              'stamp', ({{ stamp }})),
                p_now)
        ON CONFLICT (job_name) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at;
    END IF;
{% endif %}

{{ job_result('v_n') }}
{% endcall %}

{#
  The changes a run at p_now would make, by badge and change, with the users' names: what
  `deployer run calculate_badges --dry-run --verbose` lists. Computed like the job itself,
  over every user at once. Reads only.
#}
-- SECURITY DEFINER: `deployer run calculate_badges --dry-run --verbose` calls it as the runner
-- role, which may not read the app's tables; it only reads, and pins its search_path.
CREATE OR REPLACE FUNCTION {{ js }}.calculate_badges_changes(p_now timestamptz)
RETURNS TABLE (item text, change text, users text[])
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, {{ app_schema | ident }}, pg_temp
SET jit = off
AS $fn$
DECLARE
{{ week_declare }}
    v_best       bigint;
    v_ids        uuid[];
BEGIN
    /* The badges a run of calculate_badges at p_now would award, revoke and expire, each
       with the usernames (the id where a user has none), in badge order. */
{{ best_profit(kings=false) }}
    SELECT pg_catalog.array_agg(u.id) INTO v_ids FROM {{ app }}.users AS u;
    RETURN QUERY
        WITH {{ qualified('v_ids') }}
        SELECT c.badge_id, c.change,
               pg_catalog.array_agg(coalesce(u.username, c.user_id::text) ORDER BY u.username, c.user_id)
          FROM changes AS c
          JOIN {{ app }}.users AS u ON u.id = c.user_id
         GROUP BY c.badge_id, c.change
         ORDER BY pg_catalog.array_position(ARRAY[{% for b in badges %}{{ b | literal }}{{ ', ' if not loop.last }}{% endfor %}], c.badge_id), c.badge_id, c.change;
END
$fn$;
REVOKE ALL ON FUNCTION {{ js }}.calculate_badges_changes(timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION {{ js }}.calculate_badges_changes(timestamptz) IS
    'SECURITY DEFINER: the badge changes a calculate_badges run at the given moment would make, with usernames '
    '(for deployer run --dry-run --verbose, as the runner role)';
