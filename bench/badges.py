"""The baselines of calculate_badges (bench.baselines picks among them), as bench.bets has
those of settle_games and rollup_stats: the bare statement that computes every user's eight
badges and applies the diff in one go, and the row-at-a-time client as a cron script would
be written, a generator that yields the rows of each unit of work (a user's badge and tier
changes) before doing it (see bench.baselines.row_client).

Written from docs/rules.md (The week, The jobs, Boundaries) with the manifest's thresholds;
where docs/rules.md is silent (what
user_effect_tiers holds and when a row of it is written, `ghost`'s "before") they copy what
the job writes, so that the end states can be compared.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from bench.bets import GENERATED, WEEK

BADGES = ("hot_streak", "profit_king", "riding_wave", "sharp", "fade_god", "most_active", "ghost", "sunday_sweep")

# A user's badges are active when lost_at is NULL; a badge's week is its week_start_date, or
# the week of its earned_at when that is NULL. {only} narrows this and POSTERS to one user.
# riding_wave and fade_god read what others made on a user's picks from bench.bets.GENERATED
# (rollup_stats' tail_profit_generated and fade_profit_generated are "as in the badges").
HELD = """
SELECT ub.user_id, ub.badge_id, ub.earned_at,
       coalesce(ub.week_start_date = w.week_date, ub.earned_at >= w.week_start AND ub.earned_at < w.week_end)
           AS this_week
  FROM user_badges AS ub, week AS w
 WHERE ub.lost_at IS NULL {only}
"""
# Per poster: pick posts created this week (deleted since or not), a post at or before
# now - ghost_after, one in (now - ghost_after, now].
POSTERS = """
SELECT p.user_id,
       count(*) FILTER (WHERE p.post_type = 'pick' AND p.created_at >= w.week_start
                          AND p.created_at < w.week_end) AS picks,
       coalesce(bool_or(p.created_at <= %(now)s::timestamptz - %(ghost)s::interval), false) AS posted_before,
       coalesce(bool_or(p.created_at > %(now)s::timestamptz - %(ghost)s::interval
                        AND p.created_at <= %(now)s), false) AS posted_lately
  FROM posts AS p, week AS w
 WHERE true {only}
 GROUP BY p.user_id
"""
TIER_UPSERT = """
INSERT INTO user_effect_tiers AS e (user_id, tier, badge_count, updated_at)
{rows}
ON CONFLICT (user_id) DO UPDATE
   SET tier = EXCLUDED.tier, badge_count = EXCLUDED.badge_count, updated_at = EXCLUDED.updated_at
"""

# calculate_badges in one statement, over every user: the week's bets (by created_at) and
# each user's figures, the holders of each badge (`qualified`), then the diff applied to
# user_badges (active badges of earlier weeks expired, this week's no longer earned revoked,
# lost_at = now; the missing ones awarded), a badge_history row per change, and the tiers
# that change upserted (a user without a row is at tier 0 with 0 badges). The revoked are
# found by an outer join, not NOT EXISTS: the planner costs NOT EXISTS over a CTE as a
# subplan run per active badge (~4e7 at 100,000 users, for what takes ~0.1 s), and past
# jit_above_cost the statement spent ~1.3 s compiling (the job functions run with jit off).
BADGES_BARE = f"""
WITH week AS ({WEEK}), week_bets AS (
    SELECT b.user_id, b.id, b.status, b.actual_win, b.created_at,
           b.created_at >= w.sunday AND g.sport = %(nfl)s AS sunday_nfl
      FROM bets AS b
      JOIN games AS g ON g.id = b.game_id,
           week AS w
     WHERE b.created_at >= w.week_start AND b.created_at < w.week_end
), bettors AS (
    SELECT user_id,
           count(*) FILTER (WHERE status IN ('won', 'lost')) AS settled,
           count(*) FILTER (WHERE status = 'won') AS wins,
           sum(actual_win) FILTER (WHERE status IN ('won', 'lost', 'push')) AS net,
           count(*) FILTER (WHERE sunday_nfl AND status IN ('won', 'lost')) AS sunday_settled,
           count(*) FILTER (WHERE sunday_nfl AND status = 'lost') AS sunday_lost
      FROM week_bets
     GROUP BY user_id
), streaks AS (
    -- The latest hot_streak_min settled bets, all won.
    SELECT user_id
      FROM (SELECT user_id, status, row_number() OVER (PARTITION BY user_id ORDER BY created_at DESC, id DESC) AS k
              FROM week_bets
             WHERE status IN ('won', 'lost')) AS r
     WHERE k <= %(hot)s
     GROUP BY user_id
    HAVING count(*) = %(hot)s AND bool_and(status = 'won')
), followed AS ({GENERATED.format(only="")}), posters AS ({POSTERS.format(only="")}), qualified AS (
    SELECT user_id, 'hot_streak' AS badge_id FROM streaks
    UNION ALL
    SELECT user_id, 'profit_king' FROM bettors WHERE net > 0 AND net = (SELECT max(net) FROM bettors)
    UNION ALL
    SELECT user_id, 'riding_wave' FROM followed WHERE tail_profit_generated > 0
    UNION ALL
    SELECT user_id, 'sharp' FROM bettors WHERE settled >= %(sharp_bets)s AND wins * 100 >= %(sharp_rate)s * settled
    UNION ALL
    SELECT user_id, 'fade_god' FROM followed WHERE fade_profit_generated > 0
    UNION ALL
    SELECT user_id, 'most_active' FROM posters WHERE picks >= %(picks)s
    UNION ALL
    SELECT user_id, 'ghost' FROM posters WHERE posted_before AND NOT posted_lately
    UNION ALL
    SELECT user_id, 'sunday_sweep' FROM bettors WHERE sunday_settled >= %(sweep)s AND sunday_lost = 0
), held AS ({HELD.format(only="")}), lost AS (
    UPDATE user_badges AS ub
       SET lost_at = %(now)s
      FROM held AS h
      LEFT JOIN qualified AS q ON q.user_id = h.user_id AND q.badge_id = h.badge_id
     WHERE ub.user_id = h.user_id AND ub.badge_id = h.badge_id AND ub.earned_at = h.earned_at
       AND (NOT h.this_week OR q.user_id IS NULL)
    RETURNING ub.user_id, ub.badge_id
), earned AS (
    INSERT INTO user_badges (user_id, badge_id, earned_at, week_start_date, weekly_reset_at)
    SELECT q.user_id, q.badge_id, %(now)s, w.week_date, w.week_end
      FROM qualified AS q, week AS w
     WHERE NOT EXISTS (SELECT FROM held AS h WHERE h.this_week AND h.user_id = q.user_id AND h.badge_id = q.badge_id)
    RETURNING user_id, badge_id
), logged AS (
    INSERT INTO badge_history (user_id, badge_id, action, created_at)
    SELECT user_id, badge_id, 'lost', %(now)s FROM lost
    UNION ALL
    SELECT user_id, badge_id, 'earned', %(now)s FROM earned
), tiers AS (
    SELECT coalesce(n.user_id, e.user_id) AS user_id, coalesce(n.badges, 0) AS badges,
           CASE WHEN n.badges >= %(tier_two)s THEN 2 WHEN n.badges >= 1 THEN 1 ELSE 0 END AS tier,
           e.tier AS old_tier, e.badge_count AS old_badges
      FROM (SELECT user_id, count(*) AS badges FROM qualified GROUP BY user_id) AS n
      FULL JOIN user_effect_tiers AS e ON e.user_id = n.user_id
)""" + TIER_UPSERT.format(rows="""SELECT user_id, tier, badges, %(now)s
  FROM tiers
 WHERE coalesce(old_tier, 0) <> tier OR old_badges <> badges""")


def badge_params(manifest, now: datetime) -> dict:
    variables = manifest.job("calculate_badges").vars
    return {"now": now, "tz": manifest.settings["timezone"], "nfl": variables["nfl_sport"],
            "ghost": variables["ghost_after"], "hot": int(variables["hot_streak_min"]),
            "sharp_bets": int(variables["sharp_min_bets"]), "sharp_rate": int(variables["sharp_win_rate"]),
            "picks": int(variables["most_active_picks"]), "sweep": int(variables["sunday_sweep_min"]),
            "tier_two": int(variables["tier_two_badges"])}


def badges_bare(manifest, now: datetime) -> tuple[str, dict]:
    return BADGES_BARE, badge_params(manifest, now)


# The row client: the week's best net profit once, then per user five SELECTs (the week's
# bets newest first, what others made on the user's picks, the user's posts, the active
# badges, the tier row); per change an UPDATE or INSERT of user_badges and a badge_history
# row, and the tier upserted when it changes; a transaction per user.
BADGE_USERS = "SELECT id FROM users ORDER BY id"
BEST = """
SELECT max(net) AS best
  FROM (SELECT sum(b.actual_win) AS net FROM bets AS b, week AS w
         WHERE b.created_at >= w.week_start AND b.created_at < w.week_end AND b.status IN ('won', 'lost', 'push')
         GROUP BY b.user_id) AS s
"""
USER_BETS = """
SELECT b.status::text AS status, b.actual_win, b.created_at >= w.sunday AND g.sport = %(nfl)s AS sunday_nfl
  FROM bets AS b
  JOIN games AS g ON g.id = b.game_id,
       week AS w
 WHERE b.user_id = %(id)s AND b.created_at >= w.week_start AND b.created_at < w.week_end
 ORDER BY b.created_at DESC, b.id DESC
"""
USER_TIER = "SELECT tier, badge_count FROM user_effect_tiers WHERE user_id = %(id)s"
LOSE_ONE = """
UPDATE user_badges SET lost_at = %(now)s
 WHERE user_id = %(id)s AND badge_id = %(badge)s AND earned_at = %(earned_at)s AND lost_at IS NULL
"""
AWARD_ONE = """
INSERT INTO user_badges (user_id, badge_id, earned_at, week_start_date, weekly_reset_at)
VALUES (%(id)s, %(badge)s, %(now)s, %(week_date)s, %(week_end)s)
"""
HISTORY_ONE = """
INSERT INTO badge_history (user_id, badge_id, action, created_at) VALUES (%(id)s, %(badge)s, %(action)s, %(now)s)
"""
TIER_ONE = TIER_UPSERT.format(rows="VALUES (%(id)s, %(tier)s, %(badges)s, %(now)s)")


def qualified(p: dict, best, bets: list[dict], made: dict | None, posted: dict | None) -> list[str]:
    """The badges one user qualifies for (docs/rules.md: The jobs, Boundaries), in BADGES order, from the week's bets
    newest first, what others made on the user's picks, and the user's posts."""
    settled = [b["status"] for b in bets if b["status"] in ("won", "lost")]
    graded = [b["actual_win"] for b in bets if b["status"] in ("won", "lost", "push")]
    sunday = [b["status"] for b in bets if b["sunday_nfl"] and b["status"] in ("won", "lost")]
    made = made or {"tail_profit_generated": 0, "fade_profit_generated": 0}
    posted = posted or {"picks": 0, "posted_before": False, "posted_lately": False}
    holds = {
        "hot_streak": len(settled) >= p["hot"] and all(s == "won" for s in settled[:p["hot"]]),
        "profit_king": bool(graded) and best is not None and best > 0 and sum(graded) == best,
        "riding_wave": made["tail_profit_generated"] > 0,
        "sharp": len(settled) >= p["sharp_bets"] and settled.count("won") * 100 >= p["sharp_rate"] * len(settled),
        "fade_god": made["fade_profit_generated"] > 0,
        "most_active": posted["picks"] >= p["picks"],
        "ghost": posted["posted_before"] and not posted["posted_lately"],
        "sunday_sweep": len(sunday) >= p["sweep"] and "lost" not in sunday,
    }
    return [badge for badge in BADGES if holds[badge]]


def badges_client(conn: psycopg.Connection, manifest, now: datetime) -> Iterator[int]:
    """calculate_badges a user at a time: five SELECTs a user, then its changes in one
    transaction. Yields each user's changes (badges lost and earned, and the tier) before
    making them."""
    params = badge_params(manifest, now)
    cur = conn.cursor(row_factory=dict_row)
    week = cur.execute(WEEK, params).fetchone()
    params.update(week)
    best = cur.execute(f"WITH week AS ({WEEK}) {BEST}", params).fetchone()["best"]
    only = "AND {}.user_id = %(id)s"
    bets, made, posted, held = (f"WITH week AS ({WEEK}) {sql}" for sql in (
        USER_BETS, GENERATED.format(only=only.format("p")), POSTERS.format(only=only.format("p")),
        HELD.format(only=only.format("ub"))))
    for (user_id,) in conn.execute(BADGE_USERS).fetchall():
        one = {**params, "id": user_id}
        badges = qualified(params, best, cur.execute(bets, one).fetchall(), cur.execute(made, one).fetchone(),
                           cur.execute(posted, one).fetchone())
        active = cur.execute(held, one).fetchall()
        row = cur.execute(USER_TIER, one).fetchone()
        lose = [h for h in active if not h["this_week"] or h["badge_id"] not in badges]
        kept = {h["badge_id"] for h in active if h["this_week"]}
        earn = [badge for badge in badges if badge not in kept]
        tier = 2 if len(badges) >= params["tier_two"] else 1 if badges else 0
        retier = (row["tier"] if row else 0) != tier or (row is not None and row["badge_count"] != len(badges))
        changes = len(lose) + len(earn) + int(retier)
        yield changes
        if not changes:
            continue
        with conn.transaction():
            for h in lose:
                if conn.execute(LOSE_ONE, {**one, "badge": h["badge_id"], "earned_at": h["earned_at"]}).rowcount:
                    conn.execute(HISTORY_ONE, {**one, "badge": h["badge_id"], "action": "lost"})
            for badge in earn:
                conn.execute(AWARD_ONE, {**one, "badge": badge})
                conn.execute(HISTORY_ONE, {**one, "badge": badge, "action": "earned"})
            if retier:
                conn.execute(TIER_ONE, {**one, "tier": tier, "badges": len(badges)})
