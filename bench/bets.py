"""The baselines of the two jobs over bets, settle_games and rollup_stats (bench.baselines
holds the others and picks among them): for each, the bare statement that makes the job's
whole change in one go, and the row-at-a-time client as a cron script would be written, a
generator that yields the rows of each unit of work before doing it (see
bench.baselines.row_client).

Written from docs/rules.md: Money, The jobs; where docs/rules.md is silent (the notifications' data, user_stats'
definitions) they copy what the jobs write, so that the end states can be compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

from deployer.render import check_flag

# settle_games, docs/rules.md: Money, The jobs, in one statement: every pending bet of a completed game
# graded by the sign of its margin (spread and moneyline from the bet's own side), those of
# cancelled games refunded; each user's bankroll credited once; a bet_won / bet_lost
# notification per won / lost bet.
SETTLE_BARE = """
WITH graded AS (
    SELECT b.id, b.user_id, b.game_id, b.stake, b.potential_win, g.home_team, g.away_team,
           (CASE WHEN g.status = 'cancelled' THEN 'cancelled'
                 ELSE CASE sign(CASE b.bet_type
                                    WHEN 'spread' THEN s.side + s.line
                                    WHEN 'moneyline' THEN s.side
                                    WHEN 'total' THEN CASE b.bet_details ->> 'total_type'
                                                          WHEN 'over' THEN s.points - s.line
                                                          WHEN 'under' THEN s.line - s.points END
                                END)
                          WHEN 1 THEN 'won' WHEN 0 THEN 'push' ELSE 'lost' END
            END)::bet_status AS outcome
      FROM bets AS b
      JOIN games AS g ON g.id = b.game_id,
           LATERAL (SELECT CASE b.bet_details ->> 'team' WHEN g.home_team THEN g.home_score - g.away_score
                                                         ELSE g.away_score - g.home_score END AS side,
                           (b.bet_details ->> 'line')::numeric AS line,
                           g.home_score + g.away_score AS points) AS s
     WHERE b.status = 'pending' AND g.status IN ('completed', 'cancelled')
), settled AS (
    UPDATE bets AS b
       SET status = x.outcome, settled_at = %(now)s,
           actual_win = CASE x.outcome WHEN 'won' THEN x.potential_win WHEN 'lost' THEN -x.stake ELSE 0 END
      FROM graded AS x
     WHERE b.id = x.id
    RETURNING b.id, b.user_id, b.game_id, b.status, b.stake, b.actual_win, x.home_team, x.away_team
), credits AS (
    SELECT user_id,
           sum(CASE WHEN status = 'lost' THEN 0 ELSE stake + actual_win END) AS credit,
           coalesce(sum(actual_win) FILTER (WHERE status = 'won'), 0) AS won,
           count(*) FILTER (WHERE status = 'won') AS wins,
           count(*) FILTER (WHERE status = 'lost') AS losses,
           count(*) FILTER (WHERE status = 'push') AS pushes,
           max(actual_win) FILTER (WHERE status = 'won') AS biggest_win,
           max(stake) FILTER (WHERE status = 'lost') AS biggest_loss
      FROM settled
     GROUP BY user_id
), paid AS (
    {credit}
      FROM credits AS c
     WHERE k.user_id = c.user_id
)
INSERT INTO notifications (user_id, type, data, created_at)
SELECT user_id, CASE status WHEN 'won' THEN 'bet_won' ELSE 'bet_lost' END,
       jsonb_build_object('betId', id, 'gameId', game_id,
                          'amount', CASE status WHEN 'won' THEN actual_win ELSE stake END,
                          'gameInfo', away_team || ' @ ' || home_team),
       %(now)s
  FROM settled
 WHERE status IN ('won', 'lost') AND %(notify)s
"""
# A bankroll credited with a user's settled bets (docs/rules.md: Money): `c` holds the sums.
CREDIT = """UPDATE bankrolls AS k
       SET balance = k.balance + c.credit, total_won = k.total_won + c.won, win_count = k.win_count + c.wins,
           loss_count = k.loss_count + c.losses, push_count = k.push_count + c.pushes,
           biggest_win = greatest(k.biggest_win, c.biggest_win),
           biggest_loss = greatest(k.biggest_loss, c.biggest_loss)"""

# The row client: the finished games with pending bets, then each game's pending bets;
# per bet, its UPDATE, its bankroll's and its notification's.
SETTLE_GAMES = """
SELECT g.id, g.status::text, g.home_team, g.away_team, g.home_score, g.away_score
  FROM games AS g
 WHERE g.status IN ('completed', 'cancelled')
   AND EXISTS (SELECT FROM bets AS b WHERE b.game_id = g.id AND b.status = 'pending')
 ORDER BY g.id
"""
SETTLE_GAME_BETS = """
SELECT id, user_id, bet_type::text, bet_details, stake, potential_win
  FROM bets WHERE game_id = %(game)s AND status = 'pending' ORDER BY id
"""
SETTLE_BET = """
UPDATE bets SET status = %(status)s::bet_status, actual_win = %(actual_win)s, settled_at = %(now)s
 WHERE id = %(id)s AND status = 'pending'
"""
CREDIT_ONE = CREDIT + """
      FROM (SELECT %(credit)s AS credit, %(won)s AS won, %(wins)s AS wins, %(losses)s AS losses,
                   %(pushes)s AS pushes, %(biggest_win)s::integer AS biggest_win,
                   %(biggest_loss)s::integer AS biggest_loss) AS c
     WHERE k.user_id = %(user_id)s
"""
NOTIFY_ONE = """
INSERT INTO notifications (user_id, type, data, created_at)
VALUES (%(user_id)s, %(type)s,
        jsonb_build_object('betId', %(id)s::uuid, 'gameId', %(game)s::text, 'amount', %(amount)s::integer,
                           'gameInfo', %(info)s::text),
        %(now)s)
"""


def notify(manifest) -> bool:
    return check_flag(manifest.job("settle_games").vars.get("notify", True))


def settle_bare(manifest, now: datetime) -> tuple[str, dict]:
    return SETTLE_BARE.format(credit=CREDIT), {"now": now, "notify": notify(manifest)}


def grade(game: dict, bet: dict) -> str:
    """A pending bet's outcome (docs/rules.md: The jobs): `cancelled` with its game; otherwise by the sign of
    its margin, spread and moneyline from the bet's own side."""
    if game["status"] == "cancelled":
        return "cancelled"
    details, home, away = bet["bet_details"], game["home_score"], game["away_score"]
    side = home - away if details.get("team") == game["home_team"] else away - home
    line = Decimal(str(details.get("line", 0)))
    if bet["bet_type"] == "total":
        margin = home + away - line if details["total_type"] == "over" else line - home - away
    else:
        margin = side + line if bet["bet_type"] == "spread" else side
    return "won" if margin > 0 else "push" if margin == 0 else "lost"


def settle_one(conn: psycopg.Connection, game: dict, bet: dict, now: datetime, told: bool) -> None:
    """One bet settled as docs/rules.md: Money says, in three statements: the bet, its bankroll, its
    notification (won or lost, when `told`)."""
    outcome = grade(game, bet)
    won, lost = outcome == "won", outcome == "lost"
    actual_win = bet["potential_win"] if won else -bet["stake"] if lost else 0
    if not conn.execute(SETTLE_BET, {"id": bet["id"], "status": outcome, "actual_win": actual_win,
                                     "now": now}).rowcount:
        return  # settled meanwhile
    conn.execute(CREDIT_ONE, {"user_id": bet["user_id"], "credit": 0 if lost else bet["stake"] + actual_win,
                              "won": actual_win if won else 0, "wins": int(won), "losses": int(lost),
                              "pushes": int(outcome == "push"), "biggest_win": actual_win if won else None,
                              "biggest_loss": bet["stake"] if lost else None})
    if told and (won or lost):
        conn.execute(NOTIFY_ONE, {"user_id": bet["user_id"], "type": f"bet_{outcome}", "id": bet["id"],
                                  "game": game["id"], "amount": actual_win if won else bet["stake"],
                                  "info": f"{game['away_team']} @ {game['home_team']}", "now": now})


def settle_client(conn: psycopg.Connection, manifest, now: datetime) -> Iterator[int]:
    """settle_games a bet at a time: per game, its pending bets fetched, then three
    statements a bet, the game committed whole. Yields each game's bets before settling it."""
    told = notify(manifest)
    cur = conn.cursor(row_factory=dict_row)
    for game in cur.execute(SETTLE_GAMES).fetchall():
        bets = cur.execute(SETTLE_GAME_BETS, {"game": game["id"]}).fetchall()
        yield len(bets)
        with conn.transaction():
            for bet in bets:
                settle_one(conn, game, bet, now, told)


# rollup_stats: user_stats' figures, in its column order. docs/rules.md names them; what each
# means where docs/rules.md is silent is the job's (the comment of sql/jobs/rollup_stats.sql).
FIGURES = ("settled_bets", "wins", "losses", "pushes", "total_wagered", "net_profit", "win_rate", "current_streak",
           "best_streak", "biggest_win", "biggest_loss", "last_bet_at", "week_start", "week_bets", "week_wins",
           "week_losses", "week_net", "tail_profit_generated", "fade_profit_generated")
COLUMNS = ("user_id", *FIGURES, "updated_at")

# The week holding now (docs/rules.md: The week, Boundaries): [Monday 00:00, next Monday 00:00) in the timezone, 7
# local days (167 or 169 hours when DST starts or ends in it), its Monday as a date, and the
# start of its Sunday (the calendar day in the timezone).
WEEK = """
SELECT timezone(%(tz)s, monday) AS week_start, timezone(%(tz)s, monday + interval '7 days') AS week_end,
       monday::date AS week_date, timezone(%(tz)s, monday + interval '6 days') AS sunday
  FROM (SELECT date_trunc('week', timezone(%(tz)s, %(now)s::timestamptz)) AS monday) AS m
"""
# Per user, over the graded (won, lost, push) bets: totals, and those of the bets created
# this week. {only} narrows it to one user.
TOTALS = """
SELECT o.user_id, count(*) AS settled_bets,
       count(*) FILTER (WHERE o.status = 'won') AS wins,
       count(*) FILTER (WHERE o.status = 'lost') AS losses,
       count(*) FILTER (WHERE o.status = 'push') AS pushes,
       sum(o.stake) AS total_wagered, sum(o.actual_win) AS net_profit,
       round(100.0 * count(*) FILTER (WHERE o.status = 'won')
             / NULLIF(count(*) FILTER (WHERE o.status IN ('won', 'lost')), 0), 2) AS win_rate,
       coalesce(max(o.actual_win) FILTER (WHERE o.status = 'won'), 0) AS biggest_win,
       coalesce(max(o.stake) FILTER (WHERE o.status = 'lost'), 0) AS biggest_loss,
       max(o.created_at) AS last_bet_at,
       count(*) FILTER (WHERE o.created_at >= w.week_start AND o.created_at < w.week_end) AS week_bets,
       count(*) FILTER (WHERE o.created_at >= w.week_start AND o.created_at < w.week_end
                          AND o.status = 'won') AS week_wins,
       count(*) FILTER (WHERE o.created_at >= w.week_start AND o.created_at < w.week_end
                          AND o.status = 'lost') AS week_losses,
       coalesce(sum(o.actual_win) FILTER (WHERE o.created_at >= w.week_start AND o.created_at < w.week_end), 0)
           AS week_net
  FROM bets AS o, week AS w
 WHERE o.status IN ('won', 'lost', 'push') {only}
 GROUP BY o.user_id
"""
# Per pick author: what others made this week on settled tails and fades of the picks.
GENERATED = """
SELECT p.user_id,
       coalesce(sum(x.actual_win) FILTER (WHERE a.action_type = 'tail'), 0) AS tail_profit_generated,
       coalesce(sum(x.actual_win) FILTER (WHERE a.action_type = 'fade'), 0) AS fade_profit_generated
  FROM posts AS p
  JOIN pick_actions AS a ON a.post_id = p.id
  JOIN bets AS x ON x.id = a.resulting_bet_id,
       week AS w
 WHERE p.post_type = 'pick' AND a.user_id <> p.user_id
   AND a.created_at >= w.week_start AND a.created_at < w.week_end
   AND x.status IN ('won', 'lost') {only}
 GROUP BY p.user_id
"""
UPSERT = f"""
INSERT INTO user_stats AS u ({', '.join(COLUMNS)})
{{rows}}
ON CONFLICT (user_id) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in COLUMNS[1:])}
"""

# rollup_stats in one statement: every user's row, as the job's first run (a full
# recompute) writes them. Streaks: islands of equal outcomes among won and lost bets in
# (created_at, id) order; the current one is the last island, signed.
STATS_BARE = UPSERT.format(rows=f"""
WITH week AS ({WEEK}), totals AS ({TOTALS.format(only="")}), runs AS (
    SELECT r.user_id, r.status, count(*) AS n, max(r.pos) AS last_pos
      FROM (SELECT o.user_id, o.status,
                   row_number() OVER (PARTITION BY o.user_id ORDER BY o.created_at, o.id) AS pos,
                   row_number() OVER (PARTITION BY o.user_id ORDER BY o.created_at, o.id)
                   - row_number() OVER (PARTITION BY o.user_id, o.status ORDER BY o.created_at, o.id) AS island
              FROM bets AS o
             WHERE o.status IN ('won', 'lost')) AS r
     GROUP BY r.user_id, r.status, r.island
), streaks AS (
    SELECT user_id, (array_agg(CASE status WHEN 'won' THEN n ELSE -n END ORDER BY last_pos DESC))[1] AS current_streak,
           coalesce(max(n) FILTER (WHERE status = 'won'), 0) AS best_streak
      FROM runs
     GROUP BY user_id
), generated AS ({GENERATED.format(only="")})
SELECT user_id, settled_bets, wins, losses, pushes, total_wagered, net_profit, win_rate,
       coalesce(current_streak, 0), coalesce(best_streak, 0), biggest_win, biggest_loss, last_bet_at,
       w.week_date, week_bets, week_wins, week_losses, week_net,
       coalesce(tail_profit_generated, 0), coalesce(fade_profit_generated, 0), %(now)s
  FROM totals AS t
  LEFT JOIN streaks USING (user_id)
  LEFT JOIN generated USING (user_id),
       week AS w
""")
# The row client, per user: the totals, the won and lost outcomes in order, what others
# made on the user's picks; then the row, upserted.
STATS_USERS = "SELECT DISTINCT user_id FROM bets WHERE status IN ('won', 'lost', 'push') ORDER BY user_id"
STATS_OUTCOMES = """
SELECT status::text FROM bets WHERE user_id = %(id)s AND status IN ('won', 'lost') ORDER BY created_at, id
"""
STATS_ONE = UPSERT.format(rows="VALUES (" + ", ".join(f"%({c})s" for c in COLUMNS) + ")")


def stats_params(manifest, now: datetime) -> dict:
    return {"now": now, "tz": manifest.settings["timezone"]}


def stats_bare(manifest, now: datetime) -> tuple[str, dict]:
    return STATS_BARE, stats_params(manifest, now)


def streaks(outcomes: list[str]) -> tuple[int, int]:
    """current_streak (+n after n wins, -n after n losses) and best_streak (the longest run
    of wins) of won and lost outcomes in order."""
    current = best = 0
    for outcome in outcomes:
        if outcome == "won":
            current = current + 1 if current > 0 else 1
            best = max(best, current)
        else:
            current = current - 1 if current < 0 else -1
    return current, best


def stats_client(conn: psycopg.Connection, manifest, now: datetime) -> Iterator[int]:
    """rollup_stats a user at a time: three SELECTs and one autocommitted upsert a user.
    Yields 1 before each user."""
    params = stats_params(manifest, now)
    cur = conn.cursor(row_factory=dict_row)
    week = cur.execute(WEEK, params).fetchone()
    only = "AND {}.user_id = %(id)s"
    totals = f"WITH week AS ({WEEK}) {TOTALS.format(only=only.format('o'))}"
    generated = f"WITH week AS ({WEEK}) {GENERATED.format(only=only.format('p'))}"
    for (user_id,) in conn.execute(STATS_USERS).fetchall():
        yield 1
        one = {**params, "id": user_id}
        row = cur.execute(totals, one).fetchone()
        outcomes = [status for (status,) in conn.execute(STATS_OUTCOMES, one)]
        made = cur.execute(generated, one).fetchone() or {"tail_profit_generated": 0, "fade_profit_generated": 0}
        current, best = streaks(outcomes)
        conn.execute(STATS_ONE, {**row, **made, "user_id": user_id, "current_streak": current, "best_streak": best,
                                 "week_start": week["week_date"], "updated_at": now})
