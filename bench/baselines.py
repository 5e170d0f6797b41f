"""What our jobs are measured against, written here from docs/rules.md: The jobs and not taken from the jobs:

- the bare statement: the one SQL statement that makes the same change in one go;
- the row-at-a-time client, as SnapBet's Node scripts did it: select the candidates, then
  one autocommitted statement per row (per user for reset_bankrolls);
- state hashes, to check that two ways of making a change end in the same data.

settle_games' and rollup_stats' bare statements and clients are in bench.bets,
calculate_badges' in bench.badges, cleanup's in bench.cleanup.
"""

from __future__ import annotations

import time
from datetime import datetime

from bench import badges, bets, cleanup
from bench.common import NOW, connect

# expire_content on a workload of expired content posts only: the posts rule of docs/rules.md: The jobs
# (content and outcome posts with expires_at <= now, not yet deleted).
EXPIRE_POSTS_BARE = """
UPDATE posts SET deleted_at = %(now)s
 WHERE deleted_at IS NULL AND post_type IN ('content', 'outcome') AND expires_at <= %(now)s
"""

# reset_bankrolls, docs/rules.md: The jobs, in one statement: every due bankroll reset (the finished week
# appended to stats_metadata.weeklyHistory), the user's pending bets cancelled without
# refund, a system notification. {only} narrows it to one user for the row client.
RESET_BARE = """
WITH clock AS (
    SELECT timezone(%(tz)s, date_trunc('week', timezone(%(tz)s, %(now)s::timestamptz))) AS week_start
), due AS (
    SELECT b.user_id, b.last_reset, b.balance, b.weekly_deposit, b.created_at,
           %(base)s + %(bonus)s * coalesce(u.referral_count, 0) AS deposit,
           %(bonus)s * coalesce(u.referral_count, 0) AS bonus
      FROM bankrolls AS b JOIN users AS u ON u.id = b.user_id, clock
     WHERE (b.last_reset IS NULL OR b.last_reset < clock.week_start) {only}
), week AS (
    SELECT d.user_id, count(x.id) AS bets,
           count(x.id) FILTER (WHERE x.status = 'won') AS wins,
           count(x.id) FILTER (WHERE x.status = 'lost') AS losses,
           coalesce(sum(x.actual_win) FILTER (WHERE x.status IN ('won', 'lost', 'push')), 0) AS net
      FROM due AS d
      LEFT JOIN bets AS x ON x.user_id = d.user_id AND (d.last_reset IS NULL OR x.created_at >= d.last_reset)
     GROUP BY d.user_id
), reset AS (
    UPDATE bankrolls AS b
       SET balance = d.deposit, weekly_deposit = d.deposit, referral_bonus = d.bonus,
           total_wagered = 0, total_won = 0, win_count = 0, loss_count = 0, push_count = 0,
           biggest_win = 0, biggest_loss = 0, season_high = d.deposit, season_low = d.deposit,
           last_reset = %(now)s, reset_count = coalesce(b.reset_count, 0) + 1,
           stats_metadata = jsonb_set(
               CASE WHEN jsonb_typeof(b.stats_metadata) = 'object' THEN b.stats_metadata ELSE '{{}}' END,
               '{{weeklyHistory}}',
               CASE WHEN jsonb_typeof(b.stats_metadata -> 'weeklyHistory') = 'array'
                    THEN b.stats_metadata -> 'weeklyHistory' ELSE '[]' END
               || jsonb_build_array(jsonb_build_object(
                      'week_start', date_trunc('week', timezone(%(tz)s, coalesce(d.last_reset, d.created_at)))::date,
                      'start_balance', d.weekly_deposit, 'end_balance', d.balance,
                      'bets', k.bets, 'wins', k.wins, 'losses', k.losses, 'net', k.net))),
           updated_at = %(now)s
      FROM due AS d JOIN week AS k USING (user_id)
     WHERE b.user_id = d.user_id
    RETURNING b.user_id, b.balance
), cancelled AS (
    UPDATE bets AS x SET status = 'cancelled', actual_win = 0, settled_at = %(now)s
      FROM reset AS r
     WHERE x.user_id = r.user_id AND x.status = 'pending'
)
INSERT INTO notifications (user_id, type, data, created_at)
SELECT r.user_id, 'system',
       jsonb_build_object('kind', 'weekly_reset', 'week_start', clock.week_start, 'balance', r.balance), %(now)s
  FROM reset AS r, clock
"""


def reset_params(manifest, now: datetime) -> dict:
    job = manifest.job("reset_bankrolls")
    return {"now": now, "tz": manifest.settings["timezone"], "base": int(job.vars["base_bankroll"]),
            "bonus": int(job.vars["referral_bonus"])}


def bare_statement(manifest, job: str, now: datetime) -> tuple[str, dict]:
    """The bare statement of a job and its parameters."""
    statements = {"expire_content": lambda: (EXPIRE_POSTS_BARE, {"now": now}),
                  "reset_bankrolls": lambda: (RESET_BARE.format(only=""), reset_params(manifest, now)),
                  "settle_games": lambda: bets.settle_bare(manifest, now),
                  "rollup_stats": lambda: bets.stats_bare(manifest, now),
                  "calculate_badges": lambda: badges.badges_bare(manifest, now),
                  "cleanup": lambda: cleanup.cleanup_bare(manifest, now)}
    return statements[job]()


def bare(dsn: str, manifest, job: str, now: datetime) -> None:
    """The bare statement of a job, autocommitted."""
    with connect(dsn) as conn:
        conn.execute(*bare_statement(manifest, job, now))


# What the state hash of each job covers: (table, columns left out[, rows covered]). Left
# out: keys the database draws at random (gen_random_uuid) and updated_at, which SnapBet's
# trigger sets to the transaction's now(), different for any two runs (user_stats' and
# user_effect_tiers' are the run's now). cleanup's job_executions: the template's runs only
# (before NOW), not the rows our own run adds; posts for their reaction_count.
STATE = {
    "expire_content": [("posts", []), ("stories", []), ("messages", []), ("comments", []),
                       ("reactions", []), ("pick_actions", [])],
    "reset_bankrolls": [("bankrolls", ["updated_at"]), ("bets", []), ("notifications", ["id"])],
    "settle_games": [("bets", []), ("bankrolls", ["updated_at"]), ("notifications", ["id"])],
    "rollup_stats": [("user_stats", [])],
    "calculate_badges": [("user_badges", []), ("badge_history", ["id"]), ("user_effect_tiers", [])],
    "cleanup": [("notifications", []), ("jobs.job_executions", [], f"executed_at < '{NOW.isoformat()}'"),
                ("reactions", []), ("posts", []), ("chats", [])],
}


def state_hash(dsn: str, job: str) -> str:
    """md5 over the tables a job changes: each row's md5 (as jsonb, minus the columns left
    out), in sorted order, so the order rows come in does not matter."""
    parts = []
    with connect(dsn) as conn:
        for table, left_out, *rows in STATE[job]:
            where = f" WHERE {rows[0]}" if rows else ""
            row = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), ''))"
                f"  FROM (SELECT md5((to_jsonb(t) - %s::text[])::text) AS h FROM {table} AS t{where}) AS s",
                (left_out,)).fetchone()
            parts.append(f"{table}:{row[0]}:{row[1]}")
    return "|".join(parts)


# The row client's candidate queries for expire_content, in the job's order (docs/rules.md: The jobs), and
# the one-row statement it runs for each candidate.
_SOFT = "UPDATE {t} SET deleted_at = %(now)s WHERE id = %(id)s AND deleted_at IS NULL"
_HARD = "DELETE FROM {t} WHERE id = %(id)s AND deleted_at < %(now)s::timestamptz - %(keep)s::interval"
ROW_PHASES = [
    ("SELECT id FROM posts WHERE deleted_at IS NULL AND post_type IN ('content', 'outcome')"
     " AND expires_at <= %(now)s ORDER BY expires_at, id", _SOFT.format(t="posts")),
    ("SELECT t.id FROM posts AS t WHERE t.deleted_at IS NULL AND t.post_type = 'pick' AND coalesce("
     " (SELECT g.commence_time <= %(now)s::timestamptz - %(grace)s::interval"
     "    FROM bets AS b JOIN games AS g ON g.id = b.game_id WHERE b.id = t.bet_id),"
     " t.expires_at <= %(now)s) ORDER BY t.expires_at, t.id", _SOFT.format(t="posts")),
    ("SELECT id FROM stories WHERE deleted_at IS NULL AND expires_at <= %(now)s ORDER BY expires_at, id",
     _SOFT.format(t="stories")),
    ("SELECT id FROM messages WHERE deleted_at IS NULL AND expires_at <= %(now)s ORDER BY expires_at, id",
     _SOFT.format(t="messages")),
    ("SELECT c.id FROM comments AS c JOIN posts AS p ON p.id = c.post_id"
     " WHERE c.deleted_at IS NULL AND p.deleted_at IS NOT NULL ORDER BY c.post_id, c.id", _SOFT.format(t="comments")),
] + [
    (f"SELECT id FROM {table} WHERE deleted_at < %(now)s::timestamptz - %(keep)s::interval ORDER BY deleted_at, id",
     _HARD.format(t=table))
    for table in ("comments", "posts", "stories", "messages")
]
RESET_DUE = """
SELECT b.user_id FROM bankrolls AS b
 WHERE b.last_reset IS NULL
    OR b.last_reset < timezone(%(tz)s, date_trunc('week', timezone(%(tz)s, %(now)s::timestamptz)))
 ORDER BY b.user_id
"""


def row_client(dsn: str, manifest, job: str, now: datetime, budget_s: float) -> dict:
    """Run the row-at-a-time client of a job: a generator that yields how many rows its next
    unit of work changes (a row; settle_games: a game's bets; rollup_stats: a user's row;
    calculate_badges: a user's badge and tier changes; cleanup: a transaction's deletions),
    then does it when resumed. Stops before a unit once budget_s seconds have passed; returns
    the rows done, the seconds spent and whether it finished."""
    started, done = time.perf_counter(), 0
    client = {"settle_games": bets.settle_client, "rollup_stats": bets.stats_client,
              "calculate_badges": badges.badges_client, "cleanup": cleanup.cleanup_client}.get(job)
    with connect(dsn) as conn:
        units = client(conn, manifest, now) if client else _by_row(conn, manifest, job, now)
        for rows in units:
            if time.perf_counter() - started >= budget_s:
                units.close()
                return {"done": done, "seconds": time.perf_counter() - started, "finished": False}
            done += rows
    return {"done": done, "seconds": time.perf_counter() - started, "finished": True}


def _by_row(conn, manifest, job: str, now: datetime):
    """For each step, select the candidates, then one autocommitted statement per row (per
    user: the bare statement narrowed to that user)."""
    for select, write, params in _steps(manifest, job, now):
        for (row_id,) in conn.execute(select, params).fetchall():
            yield 1
            conn.execute(write, {**params, "id": row_id})


def _steps(manifest, job: str, now: datetime):
    if job == "reset_bankrolls":
        yield RESET_DUE, RESET_BARE.format(only="AND b.user_id = %(id)s"), reset_params(manifest, now)
        return
    variables = manifest.job("expire_content").vars
    params = {"now": now, "grace": variables["pick_grace"], "keep": variables["hard_delete_after"]}
    for select, write in ROW_PHASES:
        yield select, write, params
