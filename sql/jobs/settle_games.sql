{#
  settle_games (docs/rules.md: Money, The jobs, Boundaries): grade the pending bets of completed games, refund those of
  cancelled games, pay the winners, one notification per won or lost bet.

  Exactly once, whatever runs at the same time. A batch takes its games with
  FOR NO KEY UPDATE ... SKIP LOCKED: a game is settled by the one transaction that holds its
  row, and a concurrent run (the runner's, or a direct call of this function) passes over it
  instead of waiting. That lock does not conflict with the app's inserts of bets (they take
  KEY SHARE on the game). The bets are then updated WHERE status = 'pending': a bet another
  transaction settled after this statement's snapshot is re-read by the UPDATE and left
  alone, and balances are credited only from the rows the UPDATE returned, so a bet is never
  paid twice even when a game is picked up just after another run committed it. The
  bankrolls are locked in user_id order before they are updated, so two runs crediting the
  same users never deadlock (reset_bankrolls, too, locks a bankroll before its bets).

  Whole or not at all. A game's bets, its winners' balances and their notifications are
  written in the batch's one transaction: a crash or a failed batch leaves the game pending
  and the next run settles it. A game with a bet that cannot be graded (bet_details naming
  neither team, a total_type other than over/under, a line that is not a number, a bet on a
  user without a bankroll, a negative potential_win) is held back whole: it is counted under
  `held`, named in a WARNING, and left pending for a person to look at.

  Payout: a won bet pays back its stake plus potential_win, the profit SnapBet computed when
  the bet was placed (integer cents, calculate_payout: stake * 100 / |odds| for negative
  odds, stake * odds / 100 for positive ones, both truncated); a push and a cancelled bet pay
  back the stake; a lost bet pays nothing (its stake left the balance when it was placed).

  Variables: app_schema, jobs_schema, notify (insert bet_won / bet_lost notifications).
#}
{% from "macros/job_function.sql" import job_function with context %}
{% from "macros/job_result.sql" import job_result %}
{% from "macros/take.sql" import take %}
{% from "macros/position.sql" import position %}
{% set app = app_schema | ident %}
{# Completed and cancelled games with pending bets, in id order after v_from. #}
{% macro pending_games(lock) -%}
{% if lock and citus %}
{# Citus: a locking SELECT of a reference table whose subquery reads a distributed table
   and a NULL parameter fails ("invalid byte sequence"); the games are found first, in an
   array, and locked among them. Same games, same SKIP LOCKED. #}
SELECT g.id
                  FROM {{ app }}.games AS g
                 WHERE g.status IN ('completed', 'cancelled')
                   AND g.id = ANY (ARRAY(SELECT DISTINCT b.game_id FROM {{ app }}.bets AS b
                                          WHERE b.status = 'pending' AND (v_from IS NULL OR b.game_id > v_from)))
                   AND (v_from IS NULL OR g.id > v_from)
                 ORDER BY g.id
                 LIMIT v_left
                   FOR NO KEY UPDATE OF g SKIP LOCKED
{% else %}
SELECT g.id
                  FROM {{ app }}.games AS g
                 WHERE g.status IN ('completed', 'cancelled')
                   AND g.id IN (SELECT b.game_id FROM {{ app }}.bets AS b
                                 WHERE b.status = 'pending' AND (v_from IS NULL OR b.game_id > v_from))
                   AND (v_from IS NULL OR g.id > v_from)
                 ORDER BY g.id
                 LIMIT v_left
{% if lock %}
                   FOR NO KEY UPDATE OF g SKIP LOCKED
{% endif %}
{% endif %}
{%- endmacro %}
{#
  Every pending bet of the games in v_games with its outcome (NULL: cannot be graded) and
  what it pays back to the balance. Spread lines are from the bet's own side (docs/rules.md: Boundaries).
#}
{% macro graded() -%}
graded AS (
            SELECT b.id, b.user_id, b.game_id, b.stake, b.potential_win,
                   g.home_team, g.away_team,
                   CASE WHEN k.user_id IS NULL OR b.potential_win < 0 THEN NULL
                        WHEN g.status = 'cancelled' THEN 'cancelled'
                        ELSE CASE pg_catalog.sign(m.margin)
                                 WHEN 1 THEN 'won' WHEN 0 THEN 'push' WHEN -1 THEN 'lost' END
                   END::{{ app }}.bet_status AS outcome
              FROM {{ app }}.bets AS b
              JOIN {{ app }}.games AS g ON g.id = b.game_id AND g.id = ANY (v_games)
              LEFT JOIN {{ app }}.bankrolls AS k ON k.user_id = b.user_id
             CROSS JOIN LATERAL (
                    SELECT CASE b.bet_details ->> 'team'
                               WHEN g.home_team THEN g.home_score - g.away_score
                               WHEN g.away_team THEN g.away_score - g.home_score
                           END AS side,
                           CASE WHEN pg_catalog.jsonb_typeof(b.bet_details -> 'line') = 'number'
                                  OR (b.bet_details ->> 'line') ~ '^\s*[-+]?[0-9]+(\.[0-9]+)?\s*$'
                                THEN (b.bet_details ->> 'line')::numeric
                           END AS line
                   ) AS s
             CROSS JOIN LATERAL (
                    SELECT CASE b.bet_type
                               WHEN 'spread' THEN s.side + s.line
                               WHEN 'moneyline' THEN s.side
                               WHEN 'total' THEN CASE b.bet_details ->> 'total_type'
                                   WHEN 'over' THEN g.home_score + g.away_score - s.line
                                   WHEN 'under' THEN s.line - (g.home_score + g.away_score)
                               END
                           END AS margin
                   ) AS m
             WHERE b.game_id = ANY (v_games) AND b.status = 'pending'
        ), held AS (
            SELECT DISTINCT gr.game_id FROM graded AS gr WHERE gr.outcome IS NULL
        ), due AS (
            SELECT gr.*,
                   CASE gr.outcome WHEN 'won' THEN gr.potential_win WHEN 'lost' THEN -gr.stake ELSE 0 END AS actual_win
              FROM graded AS gr
             WHERE gr.game_id NOT IN (SELECT h.game_id FROM held AS h)
        )
{%- endmacro %}
{#
  The batch's figures from `rows` (bet id, game_id, status as settled, stake, actual_win).
#}
{% macro figures(rows) -%}
pg_catalog.jsonb_build_object(
                   'games', pg_catalog.count(DISTINCT {{ rows }}.game_id),
                   'won', pg_catalog.count(*) FILTER (WHERE {{ rows }}.status = 'won'),
                   'lost', pg_catalog.count(*) FILTER (WHERE {{ rows }}.status = 'lost'),
                   'push', pg_catalog.count(*) FILTER (WHERE {{ rows }}.status = 'push'),
                   'cancelled', pg_catalog.count(*) FILTER (WHERE {{ rows }}.status = 'cancelled'),
                   'paid_out', coalesce(pg_catalog.sum(
                       CASE WHEN {{ rows }}.status = 'lost' THEN 0 ELSE {{ rows }}.stake + {{ rows }}.actual_win END), 0))
{%- endmacro %}
{% set declare %}
    v_from    text    := {{ position('games', 'text') }};
    v_games   text[]  := '{}'::text[];
    v_held    text[];
    v_credit  bigint;
    v_users   bigint;
    v_owners  uuid[];
{% endset %}
{% call job_function("settle_games", declare) %}
{% if not citus %}
    -- As calculate_badges: planning the batch's statements anew, with its games and users as
    -- constant arrays (the function's force_custom_plan), cost a sixth of the run at
    -- 1,000,000 bets, and its reads probe those arrays by key whatever the plan
    -- (bench/README.md: generic plans for calculate_badges and settle_games).
    PERFORM pg_catalog.set_config('plan_cache_mode', 'auto', true);
{% endif %}
    -- The batch's games, in id order after the previous batch's last one; a real run locks
    -- them and passes over those another run holds.
    IF p_dry_run THEN
{% call take('games', 'v_games', 'text') %}{{ pending_games(lock=false) }}{% endcall %}
    ELSE
{% call take('games', 'v_games', 'text') %}{{ pending_games(lock=true) }}{% endcall %}
    END IF;

    IF p_dry_run THEN
        WITH {{ graded() }}
        SELECT {{ figures('d') }},
               (SELECT pg_catalog.array_agg(h.game_id ORDER BY h.game_id) FROM held AS h)
          INTO v_details, v_held
          FROM (SELECT due.game_id, due.outcome AS status, due.stake, due.actual_win FROM due) AS d;
    ELSIF v_seen > 0 THEN
{% if not citus %}
        -- Lock the bankrolls to be credited in one order, so concurrent runs cannot deadlock.
        SELECT pg_catalog.array_agg(DISTINCT b.user_id) INTO v_owners
          FROM {{ app }}.bets AS b
         WHERE b.game_id = ANY (v_games) AND b.status = 'pending';
        PERFORM
           FROM {{ app }}.bankrolls AS k
          WHERE k.user_id = ANY (v_owners)
          ORDER BY k.user_id
            FOR NO KEY UPDATE OF k;
{% else %}
        -- Citus locks no rows of a distributed table by SELECT across shards: two runs
        -- crediting the same users in another order are a distributed deadlock, which
        -- Citus detects and breaks by cancelling one of them (40P01), and run_job retries
        -- that batch whole.
{% endif %}

        WITH {{ graded() }}, settled AS (
            -- Rechecks `pending`: a bet settled since this statement's snapshot is left alone.
            UPDATE {{ app }}.bets AS b
               SET status = d.outcome, actual_win = d.actual_win, settled_at = p_now
              FROM due AS d
             WHERE b.id = d.id AND b.status = 'pending'
            RETURNING b.id, b.user_id, b.game_id, b.status, b.stake, b.actual_win, d.home_team, d.away_team
        ), credits AS (
            SELECT s.user_id,
                   pg_catalog.sum(CASE WHEN s.status = 'lost' THEN 0 ELSE s.stake + s.actual_win END) AS credit,
                   pg_catalog.sum(s.actual_win) FILTER (WHERE s.status = 'won') AS won,
                   pg_catalog.count(*) FILTER (WHERE s.status = 'won') AS wins,
                   pg_catalog.count(*) FILTER (WHERE s.status = 'lost') AS losses,
                   pg_catalog.count(*) FILTER (WHERE s.status = 'push') AS pushes,
                   pg_catalog.max(s.actual_win) FILTER (WHERE s.status = 'won') AS biggest_win,
                   pg_catalog.max(s.stake) FILTER (WHERE s.status = 'lost') AS biggest_loss
              FROM settled AS s
             GROUP BY s.user_id
        ), paid AS (
            UPDATE {{ app }}.bankrolls AS k
               SET balance = k.balance + c.credit,
                   total_won = k.total_won + coalesce(c.won, 0),
                   win_count = k.win_count + c.wins,
                   loss_count = k.loss_count + c.losses,
                   push_count = k.push_count + c.pushes,
                   biggest_win = GREATEST(k.biggest_win, c.biggest_win),
                   biggest_loss = GREATEST(k.biggest_loss, c.biggest_loss)
              FROM credits AS c
             WHERE k.user_id = c.user_id
            RETURNING k.user_id, c.credit
{% if notify | flag %}
        ), told AS (
            INSERT INTO {{ app }}.notifications (user_id, type, data, created_at)
            SELECT s.user_id,
                   CASE s.status WHEN 'won' THEN 'bet_won' ELSE 'bet_lost' END,
                   pg_catalog.jsonb_build_object(
                       'betId', s.id, 'gameId', s.game_id,
                       'amount', CASE s.status WHEN 'won' THEN s.actual_win ELSE s.stake END,
                       'gameInfo', s.away_team || ' @ ' || s.home_team),
                   p_now
              FROM settled AS s
             WHERE s.status IN ('won', 'lost')
{% endif %}
        )
        SELECT {{ figures('s') }},
               (SELECT pg_catalog.array_agg(h.game_id ORDER BY h.game_id) FROM held AS h),
               (SELECT pg_catalog.sum(p.credit) FROM paid AS p),
               (SELECT pg_catalog.count(DISTINCT s.user_id) - (SELECT pg_catalog.count(*) FROM paid) FROM settled AS s)
          INTO v_details, v_held, v_credit, v_users
          FROM settled AS s;
        -- Never true (held keeps bets of users without a bankroll back); a guard for money.
        IF v_users <> 0 OR coalesce(v_credit, 0) <> (v_details ->> 'paid_out')::bigint THEN
            RAISE EXCEPTION 'settle_games: credits (% cents to users) do not match the settled bets (% cents)',
                v_credit, v_details ->> 'paid_out' USING ERRCODE = 'XX000';
        END IF;
    ELSE
        v_details := '{"games": 0, "won": 0, "lost": 0, "push": 0, "cancelled": 0, "paid_out": 0}';
    END IF;
    IF v_held IS NOT NULL THEN
        RAISE WARNING 'settle_games: % game(s) held back, a pending bet cannot be graded: %',
            pg_catalog.cardinality(v_held), pg_catalog.array_to_string(v_held, ', ')
            USING HINT = 'check bet_details (team, total_type, line), potential_win and the user''s bankroll';
    END IF;
    v_details := v_details || pg_catalog.jsonb_build_object('held', coalesce(pg_catalog.cardinality(v_held), 0));
    v_n := (v_details ->> 'games')::bigint;

{{ job_result('v_n') }}
{% endcall %}
