{#
  rollup_stats (docs/rules.md: The jobs): one user_stats row per user with graded bets, recomputed for the
  users whose figures can have changed since the last complete run.

  What is due. A row depends on the user's won, lost and pushed bets, on this week's settled
  tails and fades of the user's picks by others, and on the week. So a run recomputes:
  (a) users with a bet graded (won, lost, push) after the high-water mark, (b) authors of
  picks whose tail or fade bet was settled after it, (c) rows whose week figures are not 0
  and belong to another week than p_now's. The mark is the latest settled_at the previous
  complete run saw (jobs.job_state); a run looks past it less `settle_lag` (macros/mark.sql):
  a settle_games batch whose settled_at (its run's now) is older than a mark but commits
  after the run that set it is still seen, as long as settle_lag exceeds settle_games' time
  budget. Once no settlement is newer than that run's moment less settle_lag, the next run
  looks past the mark itself: after settlements stop, an hourly run examines no one again
  (unless a week changes). Without a mark (the
  first run) every user is walked, in id order; so too when user_stats no longer holds what
  the runs up to the mark wrote (emptied, or restored from an older backup: its newest
  updated_at is missing or older than the one recorded with the mark, macros/mark.sql),
  and details say `rebuild: true`. Each candidate's row is computed from all
  of the user's bets, set-based, and written only where it differs from the stored one, so
  `affected` is the rows that changed and a second run affects 0. The mark moves only when
  a run finishes (not at a limit or the time budget), so an unfinished run's users are due
  again.

  What each figure is: docs/rules.md, rollup_stats.

  user_stats is the job set's table in the app schema (SnapBet lacks it), created here,
  idempotently: deploying onto SnapBet's database needs nothing by hand.
  Variables: app_schema, jobs_schema, timezone, settle_lag.
#}
{% from "macros/job_function.sql" import job_function with context %}
{% from "macros/job_result.sql" import job_result %}
{% from "macros/take.sql" import take, take_users with context %}
{% from "macros/position.sql" import position %}
{% from "macros/week.sql" import week_locals with context %}
{% from "macros/mark.sql" import mark_window, mark_advance with context %}
{% from "macros/user_table.sql" import user_table with context %}
{% from "macros/followed.sql" import followed, settled_since with context %}
{% set app = app_schema | ident %}
{% set js = jobs_schema | ident %}
{% set figures = ['settled_bets', 'wins', 'losses', 'pushes', 'total_wagered', 'net_profit', 'win_rate',
                  'current_streak', 'best_streak', 'biggest_win', 'biggest_loss', 'last_bet_at', 'week_start',
                  'week_bets', 'week_wins', 'week_losses', 'week_net', 'tail_profit_generated',
                  'fade_profit_generated'] %}
{{ user_table('user_stats',
    "Per-user betting figures, kept by the snapbet job set (jobs.rollup_stats); see that function's comment") }}
ALTER TABLE {{ app }}.user_stats
    ADD COLUMN IF NOT EXISTS settled_bets          integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS wins                  integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS losses                integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS pushes                integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS total_wagered         bigint      NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS net_profit            bigint      NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS win_rate              numeric(5,2),
    ADD COLUMN IF NOT EXISTS current_streak        integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS best_streak           integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS biggest_win           integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS biggest_loss          integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS last_bet_at           timestamptz,
    ADD COLUMN IF NOT EXISTS week_start            date,
    ADD COLUMN IF NOT EXISTS week_bets             integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS week_wins             integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS week_losses           integer     NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS week_net              bigint      NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS tail_profit_generated bigint      NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS fade_profit_generated bigint      NOT NULL DEFAULT 0;
-- The table's newest write, which the mark is checked against (macros/mark.sql: stamp).
CREATE INDEX IF NOT EXISTS user_stats_updated_at_idx ON {{ app }}.user_stats (updated_at);
-- Rows whose week figures may need a new week (due rule c).
CREATE INDEX IF NOT EXISTS user_stats_week_figures_idx ON {{ app }}.user_stats (week_start)
    WHERE week_bets <> 0 OR tail_profit_generated <> 0 OR fade_profit_generated <> 0;

{#
  The user_stats figures of the users in v_ids, as of p_now: one row per user with a
  graded bet (`fresh`), in the column order of `figures`.
#}
{% macro fresh() -%}
own AS (
            SELECT b.user_id, b.id, b.status, b.stake, b.actual_win, b.created_at,
                   b.created_at >= v_week_start AND b.created_at < v_week_end AS this_week
              FROM {{ app }}.bets AS b
             WHERE b.user_id = ANY (v_ids) AND b.status IN ('won', 'lost', 'push')
        ), totals AS (
            SELECT o.user_id,
                   pg_catalog.count(*) AS settled_bets,
                   pg_catalog.count(*) FILTER (WHERE o.status = 'won') AS wins,
                   pg_catalog.count(*) FILTER (WHERE o.status = 'lost') AS losses,
                   pg_catalog.count(*) FILTER (WHERE o.status = 'push') AS pushes,
                   pg_catalog.sum(o.stake) AS total_wagered,
                   pg_catalog.sum(o.actual_win) AS net_profit,
                   coalesce(pg_catalog.max(o.actual_win) FILTER (WHERE o.status = 'won'), 0) AS biggest_win,
                   coalesce(pg_catalog.max(o.stake) FILTER (WHERE o.status = 'lost'), 0) AS biggest_loss,
                   pg_catalog.max(o.created_at) AS last_bet_at,
                   pg_catalog.count(*) FILTER (WHERE o.this_week) AS week_bets,
                   pg_catalog.count(*) FILTER (WHERE o.this_week AND o.status = 'won') AS week_wins,
                   pg_catalog.count(*) FILTER (WHERE o.this_week AND o.status = 'lost') AS week_losses,
                   coalesce(pg_catalog.sum(o.actual_win) FILTER (WHERE o.this_week), 0) AS week_net
              FROM own AS o
             GROUP BY o.user_id
        ), runs AS (
            -- Islands of equal outcomes among won and lost bets, in (created_at, id) order.
            SELECT r.user_id, r.status, pg_catalog.count(*) AS n, pg_catalog.max(r.pos) AS last_pos
              FROM (SELECT o.user_id, o.status,
                           pg_catalog.row_number() OVER (PARTITION BY o.user_id ORDER BY o.created_at, o.id) AS pos,
                           pg_catalog.row_number() OVER (PARTITION BY o.user_id ORDER BY o.created_at, o.id)
                           - pg_catalog.row_number() OVER (PARTITION BY o.user_id, o.status ORDER BY o.created_at, o.id) AS island
                      FROM own AS o
                     WHERE o.status IN ('won', 'lost')) AS r
             GROUP BY r.user_id, r.status, r.island
        ), streaks AS (
            SELECT r.user_id,
                   (pg_catalog.array_agg(CASE r.status WHEN 'won' THEN r.n ELSE -r.n END
                                         ORDER BY r.last_pos DESC))[1] AS current_streak,
                   coalesce(pg_catalog.max(r.n) FILTER (WHERE r.status = 'won'), 0) AS best_streak
              FROM runs AS r
             GROUP BY r.user_id
        ), generated AS (
            -- This week's settled tails and fades of the user's picks, by others.
{{ followed('v_ids') }}
        ), fresh AS (
            SELECT t.user_id, t.settled_bets::integer, t.wins::integer, t.losses::integer, t.pushes::integer,
                   t.total_wagered::bigint, t.net_profit::bigint,
                   pg_catalog.round(100.0 * t.wins / NULLIF(t.wins + t.losses, 0), 2)::numeric(5,2) AS win_rate,
                   coalesce(s.current_streak, 0)::integer AS current_streak,
                   coalesce(s.best_streak, 0)::integer AS best_streak,
                   t.biggest_win::integer, t.biggest_loss::integer, t.last_bet_at,
                   v_week_date AS week_start,
                   t.week_bets::integer, t.week_wins::integer, t.week_losses::integer, t.week_net::bigint,
                   coalesce(gn.tails, 0)::bigint AS tail_profit_generated,
                   coalesce(gn.fades, 0)::bigint AS fade_profit_generated
              FROM totals AS t
              LEFT JOIN streaks AS s ON s.user_id = t.user_id
              LEFT JOIN generated AS gn ON gn.user_id = t.user_id
{% if citus %}
        ), stored AS (
            {#- Citus: the batch's rows of user_stats read by their key, then joined on the
                coordinator (an outer join of an intermediate result to a distributed table
                would read the whole table). #}
            SELECT u.* FROM {{ app }}.user_stats AS u WHERE u.user_id = ANY (v_ids)
{% endif %}
        ), changed AS (
            SELECT f.*
              FROM fresh AS f
              LEFT JOIN {{ 'stored' if citus else app ~ '.user_stats' }} AS u ON u.user_id = f.user_id
             WHERE u.user_id IS NULL
                OR ({% for c in figures %}u.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
                   IS DISTINCT FROM
                   ({% for c in figures %}f.{{ c }}{{ ', ' if not loop.last }}{% endfor %})
        )
{%- endmacro %}
{% set declare %}
{{ week_locals() }}
    v_from            uuid        := {{ position('users', 'uuid') }};
    v_since           timestamptz;
    v_through         timestamptz;
    v_ids             uuid[];
    v_stamp           timestamptz;
{% endset %}
{% set stamp = 'SELECT pg_catalog.max(s.updated_at) FROM ' ~ app ~ '.user_stats AS s' %}
{% call job_function("rollup_stats", declare) %}
{{ mark_window('rollup_stats', 'settled_through', settle_lag,
               'SELECT pg_catalog.max(b.settled_at) FROM ' ~ app ~ '.bets AS b', stamp) }}

    -- The batch's users, in id order after the previous batch's last one.
    IF v_since IS NULL THEN
{{ take_users() }}
    ELSE
{% call take('users', 'v_ids', 'uuid') %}
SELECT d.user_id
                  FROM ({{ settled_since('v_since') }}
                        UNION
                        SELECT s.user_id
                          FROM {{ app }}.user_stats AS s
                         WHERE (s.week_start < v_week_date OR s.week_start > v_week_date)
                           AND (s.week_bets <> 0 OR s.tail_profit_generated <> 0 OR s.fade_profit_generated <> 0)
                       ) AS d
                 WHERE v_from IS NULL OR d.user_id > v_from
                 ORDER BY d.user_id
                 LIMIT v_left
{% endcall %}
    END IF;

    IF p_dry_run THEN
        WITH {{ fresh() }}
        SELECT pg_catalog.count(*) INTO v_n FROM changed;
    ELSE
        WITH {{ fresh() }}, w AS (
            INSERT INTO {{ app }}.user_stats AS u (user_id, {{ figures | join(', ') }}, updated_at)
            SELECT c.user_id, {% for c in figures %}c.{{ c }}, {% endfor %}p_now
              FROM changed AS c
            ON CONFLICT (user_id) DO UPDATE
               SET {% for c in figures %}{{ c }} = EXCLUDED.{{ c }}, {% endfor %}updated_at = EXCLUDED.updated_at
            RETURNING u.user_id)
        SELECT pg_catalog.count(*) INTO v_n FROM w;

    END IF;
    v_details := pg_catalog.jsonb_build_object('users', v_seen, 'changed', v_n)
                 || pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('rebuild', v_after -> 'rebuild'));
{{ mark_advance('rollup_stats', 'settled_through', stamp) }}
{{ job_result('v_n') }}
{% endcall %}
