"""The seeded templates, built once per suite run and cloned for every run of a scenario.

- posts_<n>: 10,000 users and n content posts, every one expired at NOW; plus bench_ids
  (k integer primary key from 1 to n, id), the posts' ids, for pgbench to pick a random post.
- bankrolls_<n>: n users, each with a bankroll last reset in the previous week (all due at
  NOW) and one bet since (every second one pending, the others won or lost).
- cost_<n>: 10,000 users and n content posts, of which `expired` are expired at NOW (spread
  evenly over the table), the rest live for 1 to 30 more days.
- settle_<n>: n pending bets (stakes in escrow) on completed and cancelled games, 50 a game,
  of n / 10 users with bankrolls reset this Monday.
- stats_<n>: n users, each with 8 graded or cancelled bets over the last 9 days (2 of them
  this week); every fourth user has a pick post that the next three tail or fade with one of
  their bets; user_stats empty.
- badges_<n>: n users with this week's settled bets (some on NFL games), pick posts (a few
  users with 10 or more), tails and fades of them, older posts (ghosts), and badges held:
  this week's (some no longer earned) and last week's (to expire); user_effect_tiers empty.
- cleanup_<n>: n users with notifications (a quarter older than 30 days), a post each (every
  fourth soft-deleted), reactions on them; n / 2 finished job runs (a quarter older than 30
  days); n / 10 chats, group chats with and without members, old and new, and a few DMs.
- demo_<n>: `deployer seed` data for n users (deployer.demo.seed_database) at SEED_NOW.

Every one gets the reference app schema and the job set through deployer.install.deploy
(nothing scheduled), rows set-based with generate_series straight into the real tables
(CHECK and unique constraints and triggers in place; secondary indexes and foreign keys
re-created after the load, as pg_restore does), then VACUUM (FREEZE, ANALYZE).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from deployer import install, manifest
from deployer.demo import seed_database

from bench.badges import BADGES
from bench.cluster import BenchCluster
from bench.common import NOW, SEED_NOW, connect, timed

CDN = "https://cdn.bench.invalid/storage/v1/object/public/"
COST_USERS = 10_000
CHUNK = 500_000  # posts per INSERT
LOADERS = 2  # connections loading posts at once
MONDAY = NOW - timedelta(days=NOW.weekday(), hours=NOW.hour)  # 00:00 UTC of NOW's week

USERS_SQL = """
INSERT INTO users (id, email, username, referral_count, is_mock, created_at, updated_at)
SELECT md5('user' || n)::uuid, 'u' || n || '@bench.invalid', 'u' || n, n %% 3, true,
       %(now)s::timestamptz - interval '100 days', %(now)s::timestamptz - interval '100 days'
  FROM generate_series(1, %(users)s::integer) AS n
"""

# Reset last Monday a week ago (due at NOW); a week of figures and one week of history.
BANKROLLS_SQL = """
INSERT INTO bankrolls (user_id, balance, total_wagered, total_won, win_count, loss_count, push_count,
                       biggest_win, biggest_loss, season_high, season_low, last_reset, reset_count,
                       stats_metadata, referral_bonus, weekly_deposit, created_at, updated_at)
SELECT md5('user' || n)::uuid, 90000 + n %% 10000, 1000, (n %% 4) * 909, n %% 2, 1 - n %% 2, 0,
       909, 1000, 110000, 90000, %(now)s::timestamptz - interval '9 days', 5,
       jsonb_build_object('weeklyHistory', jsonb_build_array(jsonb_build_object(
           'week_start', '2026-11-09', 'start_balance', 100000, 'end_balance', 98000,
           'bets', 3, 'wins', 1, 'losses', 2, 'net', -2000))),
       0, 100000, %(now)s::timestamptz - interval '100 days', %(now)s::timestamptz - interval '9 days'
  FROM generate_series(1, %(users)s::integer) AS n
"""

GAMES_SQL = """
INSERT INTO games (id, sport, sport_title, home_team, away_team, commence_time, home_score, away_score, status)
VALUES ('bench-done', 'basketball_nba', 'NBA', 'Home', 'Away', %(now)s::timestamptz - interval '8 days', 101, 99,
        'completed'),
       ('bench-next', 'basketball_nba', 'NBA', 'Home', 'Away', %(now)s::timestamptz + interval '1 day', NULL, NULL,
        'scheduled')
"""

# One bet per user since the last reset: even users' are pending, odd users' settled.
BETS_SQL = """
INSERT INTO bets (id, user_id, game_id, bet_type, bet_details, stake, odds, potential_win, actual_win,
                  status, created_at, settled_at)
SELECT md5('bet' || n)::uuid, md5('user' || n)::uuid,
       CASE WHEN n %% 2 = 0 THEN 'bench-next' ELSE 'bench-done' END,
       'moneyline', '{"team": "Home"}', 1000, -110, 909,
       CASE WHEN n %% 2 = 0 THEN NULL WHEN n %% 4 = 1 THEN 909 ELSE -1000 END,
       (CASE WHEN n %% 2 = 0 THEN 'pending' WHEN n %% 4 = 1 THEN 'won' ELSE 'lost' END)::bet_status,
       %(now)s::timestamptz - interval '8 days 2 hours',
       CASE WHEN n %% 2 = 1 THEN %(now)s::timestamptz - interval '7 days' END
  FROM generate_series(1, %(users)s::integer) AS n
"""

# settle_<n>: games of BETS_PER_GAME bets each, every 20th cancelled, every 13th a tie (a
# moneyline push); scores 95 to 125, so that the whole-point lines below push now and then.
BETS_PER_GAME = 50
SETTLE_GAMES_SQL = """
INSERT INTO games (id, sport, sport_title, home_team, away_team, commence_time, home_score, away_score, status)
SELECT 'settle-' || g, 'basketball_nba', 'NBA', 'Home ' || g %% 30, 'Away ' || g %% 30,
       %(now)s::timestamptz - interval '3 hours' - (g %% 48) * interval '1 hour',
       CASE WHEN g %% 20 <> 0 THEN 95 + (g * 7) %% 31 END,
       CASE WHEN g %% 20 = 0 THEN NULL WHEN g %% 13 = 0 THEN 95 + (g * 7) %% 31 ELSE 95 + (g * 11) %% 29 END,
       (CASE WHEN g %% 20 = 0 THEN 'cancelled' ELSE 'completed' END)::game_status
  FROM generate_series(1, %(games)s::integer) AS g
"""

# Bet n is on game 1 + (n - 1) / BETS_PER_GAME, by user 1 + n %% users, placed an hour or so
# before the game: a third each spread (whole and half lines, -7 to +7.5, from the bet's
# side), total (over or under 205 to 235.5) and moneyline; odds -110, every fifth +150.
SETTLE_BETS_SQL = """
INSERT INTO bets (id, user_id, game_id, bet_type, bet_details, stake, odds, potential_win, status, created_at)
SELECT md5('bet' || n)::uuid, md5('user' || (1 + n %% %(users)s::integer))::uuid, 'settle-' || g,
       (ARRAY['spread', 'total', 'moneyline'])[1 + n %% 3]::bet_type,
       CASE n %% 3
           WHEN 0 THEN jsonb_build_object('team', team, 'line', (n / 3) %% 15 - 7 + half)
           WHEN 1 THEN jsonb_build_object('total_type', CASE WHEN n %% 2 = 0 THEN 'over' ELSE 'under' END,
                                          'line', 205 + (n / 3) %% 31 + half)
           ELSE jsonb_build_object('team', team)
       END,
       stake, odds, CASE WHEN odds < 0 THEN stake * 100 / -odds ELSE stake * odds / 100 END, 'pending',
       %(now)s::timestamptz - interval '4 hours' - (g %% 48) * interval '1 hour' - (n %% 600) * interval '1 second'
  FROM generate_series(1, %(bets)s::integer) AS n,
       LATERAL (SELECT 1 + (n - 1) / %(per_game)s::integer AS g, 500 + (n %% 10) * 250 AS stake,
                       CASE WHEN n %% 5 = 0 THEN 150 ELSE -110 END AS odds,
                       CASE WHEN (n / 3) %% 2 = 0 THEN 0.5 ELSE 0 END AS half) AS k,
       LATERAL (SELECT CASE WHEN n %% 2 = 0 THEN 'Home ' ELSE 'Away ' END || k.g %% 30 AS team) AS t
"""

# A bankroll per bench user, reset this Monday 00:00 UTC, its pending stakes in escrow (docs/rules.md: Money):
# balance = weekly_deposit - what its bets staked.
SETTLE_BANKROLLS_SQL = """
INSERT INTO bankrolls (user_id, balance, total_wagered, total_won, win_count, loss_count, push_count,
                       biggest_win, biggest_loss, season_high, season_low, last_reset, reset_count,
                       stats_metadata, referral_bonus, weekly_deposit, created_at, updated_at)
SELECT u.id, d.deposit - coalesce(s.staked, 0), coalesce(s.staked, 0), 0, 0, 0, 0, 0, 0,
       d.deposit, d.deposit - coalesce(s.staked, 0), monday, 5, '{}', d.deposit - 100000, d.deposit,
       %(now)s::timestamptz - interval '100 days', monday
  FROM users AS u
  LEFT JOIN (SELECT user_id, sum(stake) AS staked FROM bets GROUP BY user_id) AS s ON s.user_id = u.id,
       LATERAL (SELECT 100000 + 10000 * u.referral_count AS deposit,
                       %(now)s::timestamptz - interval '2 days 12 hours' AS monday) AS d
 WHERE u.is_mock
"""

# stats_<n>: bet k (1..8) of user u is placed (8 - k) x 30 hours before NOW - 4 hours (k = 7, 8:
# this week), before game stats-k started, and settled 2.5 hours after that start; won,
# lost, push or cancelled by a hash of (u, k).
STATS_GAMES_SQL = """
INSERT INTO games (id, sport, sport_title, home_team, away_team, commence_time, home_score, away_score, status)
SELECT 'stats-' || k, 'americanfootball_nfl', 'NFL', 'Home', 'Away',
       %(now)s::timestamptz - interval '3 hours' - (8 - k) * interval '30 hours', 24, 17, 'completed'
  FROM generate_series(1, 8) AS k
"""

STATS_BETS_SQL = """
INSERT INTO bets (id, user_id, game_id, bet_type, bet_details, stake, odds, potential_win, actual_win, status,
                  created_at, settled_at)
SELECT md5('bet' || u || ':' || k)::uuid, md5('user' || u)::uuid, 'stats-' || k, 'moneyline', '{"team": "Home"}',
       stake, -110, stake * 100 / 110,
       CASE status WHEN 'won' THEN stake * 100 / 110 WHEN 'lost' THEN -stake ELSE 0 END,
       status::bet_status, placed, %(now)s::timestamptz - interval '30 minutes' - (8 - k) * interval '30 hours'
  FROM generate_series(1, %(users)s::integer) AS u, generate_series(1, 8) AS k,
       LATERAL (SELECT 500 + ((u + k) %% 8) * 250 AS stake,
                       %(now)s::timestamptz - interval '4 hours' - (8 - k) * interval '30 hours'
                       - (u %% 3600) * interval '1 second' AS placed,
                       CASE WHEN h < 42 THEN 'won' WHEN h < 84 THEN 'lost' WHEN h < 96 THEN 'push' ELSE 'cancelled'
                       END AS status
                  FROM (SELECT abs(hashtext(u || ':' || k)) %% 100 AS h) AS x) AS b
"""

# Every fourth user's pick post, on that user's bet 7.
STATS_PICKS_SQL = """
INSERT INTO posts (id, user_id, bet_id, post_type, media_url, created_at, expires_at)
SELECT md5('pick' || u)::uuid, md5('user' || u)::uuid, b.id, 'pick', %(cdn)s || 'posts/pick' || u || '.jpg',
       b.created_at, b.created_at + interval '1 day'
  FROM generate_series(4, %(users)s::integer, 4) AS u
  JOIN bets AS b ON b.id = md5('bet' || u || ':7')::uuid
"""

# The next three users act on it: two tail, one fades, with their bet 8 (this week); every
# seventh user's action is last week's, with its bet 6.
STATS_ACTIONS_SQL = """
INSERT INTO pick_actions (id, post_id, user_id, action_type, resulting_bet_id, created_at)
SELECT md5('action' || u)::uuid, md5('pick' || (u - u %% 4))::uuid, md5('user' || u)::uuid,
       (CASE WHEN u %% 4 = 3 THEN 'fade' ELSE 'tail' END)::pick_action, b.id, b.created_at
  FROM generate_series(5, %(users)s::integer) AS u
  JOIN bets AS b ON b.id = md5('bet' || u || ':' || CASE WHEN u %% 7 = 0 THEN 6 ELSE 8 END)::uuid
 WHERE u %% 4 <> 0
"""

# badges_<n>: this week runs from MONDAY 00:00 (UTC, the manifest's timezone) to NOW,
# Wednesday noon. Game g (1..8) starts at Monday 05:00 + 6 hours x (g - 1), every fourth an
# NFL game; game 0, NFL too, on last week's Sunday at 23:00 (so its bets count for no week
# of this one). None is on this week's Sunday, which is still to come: sunday_sweep has no
# holders.
BADGE_GAMES_SQL = """
INSERT INTO games (id, sport, sport_title, home_team, away_team, commence_time, home_score, away_score, status)
SELECT 'badges-' || g, CASE WHEN g %% 4 = 0 THEN 'americanfootball_nfl' ELSE 'basketball_nba' END,
       CASE WHEN g %% 4 = 0 THEN 'NFL' ELSE 'NBA' END, 'Home', 'Away',
       %(monday)s::timestamptz + interval '5 hours' + (g - 1) * interval '6 hours', 24, 17, 'completed'
  FROM generate_series(0, 8) AS g
"""

# User u's bets: j = 1 .. 2 + u % 6 this week, on game 1 + (u + j) % 8, and j = 0 last week,
# on game 0; each placed an hour or two before its game and settled 3 hours after it started;
# won, lost, push or cancelled (55 / 30 / 10 / 5 %) by a hash of (u, j); stakes 5 to 52.50.
BADGE_BETS_SQL = """
INSERT INTO bets (id, user_id, game_id, bet_type, bet_details, stake, odds, potential_win, actual_win, status,
                  created_at, settled_at)
SELECT md5('bet' || u || ':' || j)::uuid, md5('user' || u)::uuid, 'badges-' || k.g, 'moneyline', '{"team": "Home"}',
       k.stake, -110, k.stake * 100 / 110,
       CASE k.status WHEN 'won' THEN k.stake * 100 / 110 WHEN 'lost' THEN -k.stake ELSE 0 END,
       k.status::bet_status, s.start - interval '1 hour' - (u %% 3600) * interval '1 second',
       s.start + interval '3 hours'
  FROM generate_series(1, %(users)s::integer) AS u,
       LATERAL generate_series(0, 2 + u %% 6) AS j,
       LATERAL (SELECT CASE WHEN j = 0 THEN 0 ELSE 1 + (u + j) %% 8 END AS g,
                       500 + ((7 * u + j) %% 20) * 250 AS stake,
                       CASE WHEN h < 55 THEN 'won' WHEN h < 85 THEN 'lost' WHEN h < 95 THEN 'push' ELSE 'cancelled'
                       END AS status
                  FROM (SELECT abs(hashtext(u || ':' || j)) %% 100 AS h) AS x) AS k,
       LATERAL (SELECT %(monday)s::timestamptz + interval '5 hours' + (k.g - 1) * interval '6 hours' AS start) AS s
"""

# Posts. Every fifth user's pick posts this week, on their bets in turn (pick i on bet
# 1 + (i - 1) % bets): one or two, 9 for u % 40 = 10, 10 to 12 for u % 40 = 20 (most_active);
# every tenth user's (u % 10 = 1) pick last week, on bet 0. A pick is created a few minutes
# after its bet, expires when its game starts and is soft-deleted 3 hours later, as
# expire_content does. Content posts, for two days: every third user's 10 days ago (every
# 33rd's exactly 3 days ago), expired and deleted since; every seventh user's yesterday, live.
BADGE_POSTS_SQL = """
INSERT INTO posts (id, user_id, bet_id, post_type, media_url, created_at, expires_at, deleted_at)
SELECT md5('pick' || p.u || ':' || p.i)::uuid, md5('user' || p.u)::uuid, b.id, 'pick',
       %(cdn)s || 'posts/pick' || p.u || '-' || p.i || '.jpg', b.created_at + p.i * interval '1 minute',
       g.commence_time, g.commence_time + interval '3 hours'
  FROM (SELECT u, i, CASE WHEN i = 0 THEN 0 ELSE 1 + (i - 1) %% (2 + u %% 6) END AS j
          FROM generate_series(1, %(users)s::integer) AS u,
               LATERAL generate_series(CASE WHEN u %% 10 = 1 THEN 0 ELSE 1 END,
                                       CASE WHEN u %% 40 = 20 THEN 10 + (u / 40) %% 3 WHEN u %% 40 = 10 THEN 9
                                            WHEN u %% 5 = 0 THEN 1 + (u / 5) %% 2 ELSE 0 END) AS i) AS p,
       bets AS b, games AS g
 WHERE b.id = md5('bet' || p.u || ':' || p.j)::uuid AND g.id = b.game_id
UNION ALL
SELECT md5('post' || u || ':' || age)::uuid, md5('user' || u)::uuid, NULL, 'content',
       %(cdn)s || 'posts/' || u || '-' || age || '.jpg', created, created + interval '2 days',
       CASE WHEN created + interval '2 days' <= %(now)s THEN created + interval '2 days' END
  FROM generate_series(1, %(users)s::integer) AS u,
       LATERAL (VALUES ('old', CASE WHEN u %% 33 = 0 THEN %(now)s::timestamptz - interval '3 days'
                                    ELSE %(now)s::timestamptz - interval '10 days' END, u %% 3 = 0),
                       ('new', %(now)s::timestamptz - interval '1 day', u %% 7 = 0)) AS c (age, created, wanted)
 WHERE c.wanted
"""

# Tails and fades, each with the actor's own bet: the three users after each of this week's
# pick authors act on their first pick (tail, tail, fade) with their bet 1, a few minutes
# after it; every fourth author tails their own pick (not "others": it counts for nothing).
# Last week's picks: the next user tails it then with their bet 0; the one after fades it
# this Monday (an action of this week: it counts) with their bet 1.
BADGE_ACTIONS_SQL = """
INSERT INTO pick_actions (id, post_id, user_id, action_type, resulting_bet_id, created_at)
SELECT md5('action' || a.u || ':' || a.i || ':' || a.actor)::uuid, p.id, md5('user' || a.actor)::uuid,
       a.kind::pick_action, md5('bet' || a.actor || ':' || a.j)::uuid,
       coalesce(a.at, p.created_at + interval '5 minutes')
  FROM (SELECT u, 1 AS i, u + d AS actor, kind, 1 AS j, NULL::timestamptz AS at
          FROM generate_series(5, %(users)s::integer, 5) AS u,
               (VALUES (1, 'tail'), (2, 'tail'), (3, 'fade')) AS v (d, kind)
        UNION ALL
        SELECT u, 1, u, 'tail', 2, NULL FROM generate_series(20, %(users)s::integer, 20) AS u
        UNION ALL
        SELECT u, 0, u + 1, 'tail', 0, NULL FROM generate_series(1, %(users)s::integer, 10) AS u
        UNION ALL
        SELECT u, 0, u + 2, 'fade', 1, %(monday)s::timestamptz + interval '30 minutes'
          FROM generate_series(1, %(users)s::integer, 10) AS u) AS a,
       posts AS p
 WHERE a.actor <= %(users)s AND p.id = md5('pick' || a.u || ':' || a.i)::uuid
"""

# Badges held at NOW. This week's, active: every fourth user one badge, the eight in turn
# (every sixteenth without week_start_date: its week is its earned_at's), whether or not
# it still qualifies; ghost for u % 12 = 3. This week's, lost on Tuesday: hot_streak for
# u % 4 = 1. Last week's, still active (to expire): every third user one badge, in turn.
# A history row per earning and per loss.
BADGE_HELD_SQL = """
INSERT INTO user_badges (user_id, badge_id, earned_at, lost_at, week_start_date, weekly_reset_at)
SELECT md5('user' || u)::uuid, badge, earned, lost, week, reset
  FROM (SELECT u, (%(badges)s::text[])[1 + (u / 4) %% 8] AS badge,
               %(monday)s::timestamptz + interval '1 hour' + (u %% 3600) * interval '1 second' AS earned,
               NULL::timestamptz AS lost, CASE WHEN u %% 16 <> 0 THEN %(week)s::date END AS week,
               %(monday)s::timestamptz + interval '7 days' AS reset
          FROM generate_series(4, %(users)s::integer, 4) AS u
        UNION ALL
        SELECT u, 'ghost', %(monday)s::timestamptz + interval '1 hour', NULL, %(week)s::date,
               %(monday)s::timestamptz + interval '7 days'
          FROM generate_series(3, %(users)s::integer, 12) AS u
        UNION ALL
        SELECT u, 'hot_streak', %(monday)s::timestamptz + interval '2 hours',
               %(monday)s::timestamptz + interval '26 hours', %(week)s::date,
               %(monday)s::timestamptz + interval '7 days'
          FROM generate_series(1, %(users)s::integer, 4) AS u
        UNION ALL
        SELECT u, (%(badges)s::text[])[1 + (u / 3) %% 8],
               %(monday)s::timestamptz - interval '5 days' + (u %% 3600) * interval '1 second', NULL,
               %(week)s::date - 7, %(monday)s::timestamptz
          FROM generate_series(1, %(users)s::integer, 3) AS u) AS h
"""
BADGE_HISTORY_SQL = """
INSERT INTO badge_history (user_id, badge_id, action, created_at)
SELECT user_id, badge_id, 'earned', earned_at FROM user_badges
UNION ALL
SELECT user_id, badge_id, 'lost', lost_at FROM user_badges WHERE lost_at IS NOT NULL
"""

# cleanup_<n>: user u's notifications k = 0..3, created 1, 6, 20 and 45 days (every 100th
# user's fourth 29 days) and up to an hour before NOW; the older two read. Clear of the 30-day
# cut by more than an hour, so a daylight-saving change in the cut does not move a row.
CLEANUP_NOTIFICATIONS_SQL = """
INSERT INTO notifications (user_id, type, data, read, read_at, created_at)
SELECT md5('user' || u)::uuid, 'system', jsonb_build_object('kind', 'bench', 'k', k), k >= 2,
       CASE WHEN k >= 2 THEN c.created + interval '1 hour' END, c.created
  FROM generate_series(1, %(users)s::integer) AS u, generate_series(0, 3) AS k,
       LATERAL (SELECT %(now)s::timestamptz - (u %% 3600) * interval '1 second'
                       - CASE k WHEN 0 THEN 1 WHEN 1 THEN 6 WHEN 2 THEN 20 WHEN 3 THEN
                                CASE WHEN u %% 100 = 0 THEN 29 ELSE 45 END END * interval '1 day' AS created) AS c
"""

# Finished runs i = 1..runs of the seven jobs in turn (every tenth failed): every fourth 35 to
# 54 days old, the others 0 to 24 days, each 1 to 3 hours more. None `running`.
CLEANUP_RUNS_SQL = """
INSERT INTO jobs.job_executions (job_name, success, status, message, affected_count, duration_ms, details,
                                 executed_at, finished_at, executed_by, batches, batch_sizes)
SELECT (ARRAY['expire_content', 'reset_bankrolls', 'settle_games', 'rollup_stats', 'calculate_badges', 'cleanup',
              'cleanup_media'])[1 + i %% 7], i %% 10 <> 0, CASE WHEN i %% 10 = 0 THEN 'failed' ELSE 'succeeded' END,
       'bench', i %% 1000, 2000, '{}', r.at, r.at + interval '2 seconds', 'bench', 1, ARRAY[i %% 1000]
  FROM generate_series(1, %(runs)s::integer) AS i,
       LATERAL (SELECT %(now)s::timestamptz - interval '1 hour' - (i %% 120) * interval '1 minute'
                       - CASE WHEN i %% 4 = 0 THEN 35 + i %% 20 ELSE i %% 25 END * interval '1 day' AS at) AS r
"""

# A content post per user, every fourth expired yesterday and soft-deleted two minutes later
# (as expire_content does), the others live; u %% 3 reactions on each (none on every third),
# from the next users: SnapBet's trigger counts them into reaction_count.
CLEANUP_POSTS_SQL = """
INSERT INTO posts (id, user_id, post_type, media_url, caption, created_at, expires_at, deleted_at)
SELECT md5('post' || u)::uuid, md5('user' || u)::uuid, 'content', %(cdn)s || 'posts/' || u || '.jpg', 'post ' || u,
       c.created, c.created + interval '1 day',
       CASE WHEN u %% 4 = 0 THEN c.created + interval '1 day 2 minutes' END
  FROM generate_series(1, %(users)s::integer) AS u,
       LATERAL (SELECT CASE WHEN u %% 4 = 0 THEN %(now)s::timestamptz - interval '2 days'
                            ELSE %(now)s::timestamptz - interval '12 hours' END
                       - (u %% 3600) * interval '1 second' AS created) AS c
"""
CLEANUP_REACTIONS_SQL = """
INSERT INTO reactions (post_id, user_id, emoji, created_at)
SELECT md5('post' || u)::uuid, md5('user' || (1 + (u + j) %% %(users)s::integer))::uuid,
       (ARRAY['🔥', '💯', '😂'])[j], %(now)s::timestamptz - interval '1 day' - (u %% 3600) * interval '1 second'
       + j * interval '1 minute'
  FROM generate_series(1, %(users)s::integer) AS u, LATERAL generate_series(1, u %% 3) AS j
"""

# Chats c = 1..chats: group chats, DMs for c %% 11 = 0; created 2 days ago, every fifth 30
# minutes ago (in the grace), every seventh exactly an hour ago (not older than the grace);
# every even one with two members.
CLEANUP_CHATS_SQL = """
INSERT INTO chats (id, chat_type, name, created_at)
SELECT md5('chat' || c)::uuid, (CASE WHEN c %% 11 = 0 THEN 'dm' ELSE 'group' END)::chat_type,
       CASE WHEN c %% 11 <> 0 THEN 'group ' || c END,
       %(now)s::timestamptz - CASE WHEN c %% 5 = 0 THEN interval '30 minutes' WHEN c %% 7 = 0 THEN interval '1 hour'
                                   ELSE interval '2 days' + c * interval '1 second' END
  FROM generate_series(1, %(chats)s::integer) AS c
"""
CLEANUP_MEMBERS_SQL = """
INSERT INTO chat_members (chat_id, user_id, role, joined_at)
SELECT md5('chat' || c)::uuid, md5('user' || (1 + (c + m) %% %(users)s::integer))::uuid,
       (CASE m WHEN 0 THEN 'admin' ELSE 'member' END)::chat_role, %(now)s::timestamptz - interval '20 minutes'
  FROM generate_series(2, %(chats)s::integer, 2) AS c, generate_series(0, 1) AS m
"""

# cost_<n>: SnapBet's mix around the moment expire_content runs, an hour after its previous
# complete run. Post n (1..n) is due at NOW when n %% every = 0 (k = n / every): a pick on a
# game that started 3 h to 3 h 50 min ago when k %% 3 = 0, a pick without a game (expired in
# the last hour) when k %% 30 = 1, otherwise a content post expired in the last hour. The
# others are live: n %% 10 in 1..3 a pick on one of 200 games starting in the next 7 days
# (expiring at its start), n %% 100 = 4 a pick on a game that started an hour ago (expired,
# still in the grace), n %% 1000 = 5 a pick without a game expiring in 1 to 30 days, the rest
# content posts expiring in 1 to 30 days. A post due was created a day before it expired, a live
# one over the last 30 days. Every pick with a game has its own pending bet.
COST_GAMES_SQL = """
INSERT INTO games (id, sport, sport_title, home_team, away_team, commence_time, home_score, away_score, status)
SELECT 'cost-next-' || g, 'basketball_nba', 'NBA', 'Home', 'Away',
       %(now)s::timestamptz + interval '1 hour' + g * interval '50 minutes', NULL::integer, NULL::integer,
       'scheduled'::game_status
  FROM generate_series(1, 200) AS g
UNION ALL
SELECT 'cost-due-' || g, 'basketball_nba', 'NBA', 'Home', 'Away',
       %(now)s::timestamptz - interval '3 hours' - g * interval '1 minute', NULL, NULL, 'live'
  FROM generate_series(0, 49) AS g
UNION ALL
SELECT 'cost-grace-' || g, 'basketball_nba', 'NBA', 'Home', 'Away',
       %(now)s::timestamptz - interval '1 hour' - g * interval '1 minute', NULL, NULL, 'live'
  FROM generate_series(0, 19) AS g
UNION ALL
SELECT 'cost-old-' || g, 'basketball_nba', 'NBA', 'Home', 'Away',
       %(now)s::timestamptz - interval '1 day' - g * interval '2 hours', 101, 99, 'completed'
  FROM generate_series(1, 300) AS g
"""

# The kind of post n, and its game (NULL: a content post or a pick without a game).
COST_KIND = """
       LATERAL (SELECT n %% %(every)s::integer = 0 AS due, n / %(every)s::integer AS k) AS d,
       LATERAL (SELECT CASE WHEN d.due AND d.k %% 3 = 0 THEN 'pick'
                            WHEN d.due AND d.k %% 30 = 1 THEN 'lost'
                            WHEN d.due THEN 'content'
                            WHEN n %% 10 BETWEEN 1 AND 3 OR n %% 100 = 4 THEN 'pick'
                            WHEN n %% 1000 = 5 THEN 'lost'
                            ELSE 'content' END AS kind,
                       CASE WHEN d.due AND d.k %% 3 = 0 THEN 'cost-due-' || d.k %% 50
                            WHEN d.due THEN NULL
                            WHEN n %% 10 BETWEEN 1 AND 3 THEN 'cost-next-' || 1 + n %% 200
                            WHEN n %% 100 = 4 THEN 'cost-grace-' || n %% 20 END AS game_id) AS k
"""

COST_BETS_SQL = """
INSERT INTO bets (id, user_id, game_id, bet_type, bet_details, stake, odds, potential_win, status, created_at)
SELECT md5('bet' || n)::uuid, md5('user' || (1 + n %% %(users)s::integer))::uuid, k.game_id, 'moneyline',
       '{"team": "Home"}', 1000, -110, 909, 'pending', g.commence_time - interval '2 hours'
  FROM generate_series(%(first)s::integer, %(last)s::integer) AS n, """ + COST_KIND + """
  JOIN games AS g ON g.id = k.game_id
"""

COST_POSTS_SQL = """
INSERT INTO posts (id, user_id, bet_id, post_type, media_url, caption, created_at, expires_at)
SELECT md5('post' || n)::uuid, md5('user' || (1 + n %% %(users)s::integer))::uuid,
       CASE WHEN k.game_id IS NOT NULL THEN md5('bet' || n)::uuid END,
       CASE WHEN k.kind = 'content' THEN 'content' ELSE 'pick' END, %(cdn)s || 'posts/' || n || '.jpg', 'post ' || n,
       CASE WHEN d.due THEN e.expires_at - interval '1 day'
            ELSE least(e.expires_at, %(now)s::timestamptz) - interval '1 minute'
                 - (n::bigint * 7919 %% 2592000) * interval '1 second'
       END, e.expires_at
  FROM generate_series(%(first)s::integer, %(last)s::integer) AS n, """ + COST_KIND + """
  LEFT JOIN games AS g ON g.id = k.game_id,
       LATERAL (SELECT CASE WHEN g.id IS NOT NULL THEN g.commence_time
                            WHEN d.due THEN %(now)s::timestamptz - (n %% 3600) * interval '1 second'
                            ELSE %(now)s::timestamptz + interval '1 day' + (n %% 2592000) * interval '1 second'
                       END AS expires_at) AS e
"""

# Posts expire_content deleted before: n / 10 over the last 29 days (every second a pick on an
# old game, soft-deleted 3 hours after it started, with its bet, settled), `expired` an hour
# ago by its previous run, and `expired` / 10 more than 30 days ago (due for the hard delete).
COST_OLD_SQL = """
WITH o AS (
    SELECT m, md5('old' || m)::uuid AS id, m %% 2 = 0 AS pick, 'cost-old-' || 1 + m %% 300 AS game_id,
           CASE WHEN m <= %(expired)s::integer THEN %(now)s::timestamptz - interval '1 hour'
                WHEN m <= %(expired)s::integer * 11 / 10
                THEN %(now)s::timestamptz - interval '31 days' - m * interval '1 second'
                WHEN m %% 2 = 0 THEN g.commence_time + interval '3 hours'
                ELSE %(now)s::timestamptz - interval '1 day' - (m %% 672) * interval '1 hour' END AS deleted_at
      FROM generate_series(1, %(old)s::integer) AS m
      JOIN games AS g ON g.id = 'cost-old-' || 1 + m %% 300
), b AS (
    INSERT INTO bets (id, user_id, game_id, bet_type, bet_details, stake, odds, potential_win, actual_win, status,
                      created_at, settled_at)
    SELECT md5('oldbet' || o.m)::uuid, md5('user' || (1 + o.m %% %(users)s::integer))::uuid, o.game_id, 'moneyline',
           '{"team": "Home"}', 1000, -110, 909, 909, 'won', o.deleted_at - interval '2 days', o.deleted_at
      FROM o WHERE o.pick
)
INSERT INTO posts (id, user_id, bet_id, post_type, media_url, created_at, expires_at, deleted_at)
SELECT o.id, md5('user' || (1 + o.m %% %(users)s::integer))::uuid, CASE WHEN o.pick THEN md5('oldbet' || o.m)::uuid END,
       CASE WHEN o.pick THEN 'pick' ELSE 'content' END, %(cdn)s || 'posts/old' || o.m || '.jpg',
       o.deleted_at - interval '2 days', o.deleted_at - interval '1 day', o.deleted_at
  FROM o
"""

# Comments: one on every fifth live post, two on each post due now (their soft delete is
# part of the work), one on every second post deleted before, deleted with it.
COST_COMMENTS_SQL = """
INSERT INTO comments (id, post_id, user_id, content, created_at, deleted_at)
SELECT md5('comment' || p.id || ':' || j)::uuid, p.id,
       md5('user' || (1 + abs(hashtext(p.id::text || j)) %% %(users)s::integer))::uuid,
       'nice', p.created_at + interval '1 minute', p.deleted_at
  FROM posts AS p, generate_series(1, CASE WHEN p.deleted_at IS NULL AND p.expires_at <= %(now)s THEN 2 ELSE 1 END) AS j
 WHERE CASE WHEN p.deleted_at IS NOT NULL THEN hashtext(p.id::text) %% 2 = 0
            WHEN p.expires_at <= %(now)s THEN true
            ELSE hashtext(p.id::text) %% 5 = 0 END
"""

# Stories and messages: n / 20 each live (expiring in the next 23 hours), `expired` / 10 each
# expired in the last hour; messages in 100 group chats.
COST_STORIES_SQL = """
INSERT INTO stories (id, user_id, media_url, created_at, expires_at)
SELECT md5('story' || s)::uuid, md5('user' || (1 + s %% %(users)s::integer))::uuid,
       %(cdn)s || 'stories/' || s || '.jpg',
       e.at - interval '24 hours', e.at
  FROM generate_series(1, %(live)s::integer + %(due)s::integer) AS s,
       LATERAL (SELECT CASE WHEN s <= %(due)s::integer THEN %(now)s::timestamptz - (s %% 3600) * interval '1 second'
                            ELSE %(now)s::timestamptz + (1 + s %% 82800) * interval '1 second' END AS at) AS e
"""
COST_CHATS_SQL = """
INSERT INTO chats (id, chat_type, name, created_at)
SELECT md5('chat' || c)::uuid, 'group', 'group ' || c, %(now)s::timestamptz - interval '30 days'
  FROM generate_series(1, 100) AS c
"""
COST_MESSAGE_ROWS = """
  FROM generate_series(1, %(live)s::integer + %(due)s::integer) AS s,
       LATERAL (SELECT CASE WHEN s <= %(due)s::integer THEN %(now)s::timestamptz - (s %% 3600) * interval '1 second'
                            ELSE %(now)s::timestamptz + (1 + s %% 82800) * interval '1 second' END AS at) AS e
"""
# Loaded without SnapBet's trigger that sets the chat's last_message_at to each new message's
# created_at: in one transaction, every message of a chat would update the chat's row again
# and walk all its earlier versions (quadratic: 5,000 messages a chat at 10M posts). What the
# trigger would have left, the created_at of each chat's last message inserted, is set after.
COST_MESSAGES_SQL = """
INSERT INTO messages (id, chat_id, sender_id, content, created_at, expires_at)
SELECT md5('message' || s)::uuid, md5('chat' || 1 + s %% 100)::uuid, md5('user' || (1 + s %% %(users)s::integer))::uuid,
       'hi', e.at - interval '24 hours', e.at""" + COST_MESSAGE_ROWS
COST_CHAT_LAST_SQL = """
UPDATE chats AS c SET last_message_at = l.at
  FROM (SELECT DISTINCT ON (1 + s %% 100) md5('chat' || 1 + s %% 100)::uuid AS chat_id, e.at - interval '24 hours' AS at
""" + COST_MESSAGE_ROWS + """
         ORDER BY 1 + s %% 100, s DESC) AS l
 WHERE c.id = l.chat_id
"""

# The previous hourly run of expire_content completed an hour ago, and left what it records
# (sql/jobs/expire_content.sql): its mark and moment, the stamp of the posts it deleted (the
# 10,000 above), and the start of the oldest transaction open as it began (none: its own
# start). Not its horizon, a transaction number no template can carry over: the run looks at
# every row written in its window as if an older version had run before it.
COST_STATE_SQL = """
INSERT INTO jobs.job_state (job_name, state, updated_at)
SELECT 'expire_content', jsonb_build_object('checked_through', p.at, 'seen', p.at, 'deleted_at', p.at, 'quiet', p.at), p.at
  FROM (SELECT %(now)s::timestamptz - interval '1 hour' AS at) AS p
"""

# Posts first..last; post n is expired at NOW when n %% every = 0 (every = 1: all of them),
# otherwise it expires 1 to 30 days after NOW. Content posts: bet_id and settled_bet_id NULL.
POSTS_SQL = """
INSERT INTO posts (id, user_id, post_type, media_url, caption, created_at, expires_at)
SELECT md5('post' || n)::uuid AS id, md5('user' || (1 + n %% %(users)s::integer))::uuid AS user_id,
       'content' AS post_type, %(cdn)s || 'posts/' || n || '.jpg' AS media_url, 'post ' || n AS caption,
       %(now)s::timestamptz - interval '2 days' AS created_at,
       CASE WHEN n %% %(every)s::integer = 0
            THEN %(now)s::timestamptz - interval '1 day' + (n %% 3600) * interval '1 second'
            ELSE %(now)s::timestamptz + interval '1 day' + (n %% 2592000) * interval '1 second'
       END AS expires_at
  FROM generate_series(%(first)s::integer, %(last)s::integer) AS n
"""

BENCH_IDS_SQL = """
CREATE TABLE bench_ids AS SELECT row_number() OVER (ORDER BY id)::integer AS k, id FROM posts;
ALTER TABLE bench_ids ADD PRIMARY KEY (k);
"""

# Loaded like pg_restore does: the secondary indexes (those backing no constraint) and the
# foreign keys of the tables being filled are created after their rows, from their own
# definitions; re-adding a foreign key checks every row at once. Triggers stay enabled.
DEFERRED_SQL = """
SELECT format('DROP INDEX %%s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
  FROM pg_index AS i
 WHERE i.indrelid = ANY(%(tables)s::regclass[])
   AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid)
UNION ALL
SELECT format('ALTER TABLE %%s DROP CONSTRAINT %%I', k.conrelid::regclass, k.conname),
       format('ALTER TABLE %%s ADD CONSTRAINT %%I %%s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid))
  FROM pg_constraint AS k
 WHERE k.conrelid = ANY(%(tables)s::regclass[]) AND k.contype = 'f'
"""


@dataclass
class Templates:
    """Builds each template the first time a scenario asks for it; remembers what it cost."""

    bench: BenchCluster
    manifest: manifest.Manifest
    built: dict[str, str] = field(default_factory=dict)
    log: list[dict] = field(default_factory=list)  # name, what, seconds

    def _build(self, name: str, what: str, fill) -> str:
        if name not in self.built:
            dsn = self.bench.create_database(name)
            _, seconds = timed(self._deploy_and_fill, dsn, fill)
            self.bench.freeze_template(name)
            self.built[name] = name
            self.log.append({"template": name, "what": what, "seconds": seconds})
            print(f"bench: template {name} built in {seconds:.1f} s", file=sys.stderr, flush=True)
        return self.built[name]

    def _deploy_and_fill(self, dsn: str, fill) -> None:
        install.deploy(dsn, self.manifest, with_app_schema=True, with_schedule=False)
        fill(dsn)
        with connect(dsn) as conn:
            conn.execute("VACUUM (FREEZE, ANALYZE)")
            conn.execute("CHECKPOINT")

    def for_job(self, job: str, scale) -> str:
        """The template a job works on at a scale: expired posts, bankrolls due, pending bets of
        finished games, settled bets to roll up, a week of bets, picks and badges, or rows to
        clean up."""
        build = {"expire_content": lambda: self.posts(scale.posts),
                 "reset_bankrolls": lambda: self.bankrolls(scale.users),
                 "settle_games": lambda: self.settle(scale.pending_bets),
                 "rollup_stats": lambda: self.stats(scale.stats_users),
                 "calculate_badges": lambda: self.badges(scale.badge_users),
                 "cleanup": lambda: self.cleanup(scale.cleanup_users)}
        return build[job]()

    def posts(self, posts: int) -> str:
        what = f"{COST_USERS:,} users; {posts:,} posts, all expired; bench_ids"
        return self._build(f"tmpl_posts_{posts}", what, lambda dsn: fill_posts_template(dsn, posts, 1, True))

    def bankrolls(self, users: int) -> str:
        what = f"{users:,} users, each with a bankroll due and a bet"
        return self._build(f"tmpl_bankrolls_{users}", what, lambda dsn: fill_bankrolls(dsn, users))

    def settle(self, bets: int) -> str:
        what = f"{bets:,} pending bets of {bets // BETS_PER_GAME:,} finished games, {bets // 10:,} users"
        return self._build(f"tmpl_settle_{bets}", what, lambda dsn: fill_settle(dsn, bets))

    def stats(self, users: int) -> str:
        what = f"{users:,} users, 8 settled bets each, picks tailed and faded; user_stats empty"
        return self._build(f"tmpl_stats_{users}", what, lambda dsn: fill_stats(dsn, users))

    def badges(self, users: int) -> str:
        what = (f"{users:,} users, this week's bets, picks, tails and fades, older posts; badges of this week "
                "and last; user_effect_tiers empty")
        return self._build(f"tmpl_badges_{users}", what, lambda dsn: fill_badges(dsn, users))

    def cleanup(self, users: int) -> str:
        what = (f"{users:,} users, notifications, posts (a quarter soft-deleted) and reactions; {users // 2:,} "
                f"finished runs; {users // 10:,} chats")
        return self._build(f"tmpl_cleanup_{users}", what, lambda dsn: fill_cleanup(dsn, users))

    def cost(self, posts: int, expired: int) -> str:
        what = (f"{COST_USERS:,} users; {posts:,} posts (content and picks), {expired:,} of them due; their "
                "bets and games, posts deleted before, comments, stories, messages")
        return self._build(f"tmpl_cost_{posts}", what, lambda dsn: fill_cost(dsn, posts, expired))

    def windows(self, posts: int) -> str:
        what = (f"{posts // 10:,} users with avatars; {posts:,} live posts and {posts // 100:,} soft-deleted long ago, "
                f"with their files; old and new files nothing names; {posts // 10:,} group chats, some empty")
        return self._build(f"tmpl_windows_{posts}", what, lambda dsn: fill_windows(dsn, posts))

    def demo(self, users: int) -> str:
        what = f"deployer seed: {users:,} users"
        return self._build(f"tmpl_demo_{users}", what,
                           lambda dsn: seed_database(dsn, self.manifest, users, 1, SEED_NOW))


@contextmanager
def deferred(dsn: str, tables: list[str]) -> Iterator[None]:
    """Drop the tables' secondary indexes and foreign keys, let the caller load, re-create them."""
    with connect(dsn) as conn:
        objects = conn.execute(DEFERRED_SQL, {"tables": tables}).fetchall()
        for drop, _ in objects:
            conn.execute(drop)
    yield
    with connect(dsn) as conn:
        for _, create in objects:
            conn.execute(create)


def fill_users(dsn: str, users: int, with_bankrolls: bool) -> None:
    with connect(dsn) as conn:
        conn.execute(USERS_SQL, {"now": NOW, "users": users})
        if with_bankrolls:
            conn.execute(BANKROLLS_SQL, {"now": NOW, "users": users})
            conn.execute(GAMES_SQL, {"now": NOW})
            conn.execute(BETS_SQL, {"now": NOW, "users": users})


def fill_posts(dsn: str, posts: int, users: int, every: int) -> None:
    """Posts 1..posts in chunks, two connections at a time (the machine's two cores)."""
    def insert(first: int) -> None:
        with connect(dsn) as conn:
            conn.execute(POSTS_SQL, {"now": NOW, "users": users, "cdn": CDN, "every": every,
                                     "first": first, "last": min(posts, first + CHUNK - 1)})

    with ThreadPoolExecutor(LOADERS) as pool:
        list(pool.map(insert, range(1, posts + 1, CHUNK)))


def fill_bankrolls(dsn: str, users: int) -> None:
    with deferred(dsn, ["users", "bankrolls", "bets"]):
        fill_users(dsn, users, with_bankrolls=True)


def fill_settle(dsn: str, bets: int) -> None:
    """bets pending bets, BETS_PER_GAME a game, of bets / 10 users (each with a bankroll)."""
    users = max(BETS_PER_GAME, bets // 10)
    with deferred(dsn, ["users", "games", "bets", "bankrolls"]), connect(dsn) as conn:
        conn.execute(USERS_SQL, {"now": NOW, "users": users})
        conn.execute(SETTLE_GAMES_SQL, {"now": NOW, "games": -(-bets // BETS_PER_GAME)})
        conn.execute(SETTLE_BETS_SQL, {"now": NOW, "users": users, "bets": bets, "per_game": BETS_PER_GAME})
        conn.execute(SETTLE_BANKROLLS_SQL, {"now": NOW})


def fill_stats(dsn: str, users: int) -> None:
    """users users with 8 bets each, the pick posts and the tails and fades on them."""
    with deferred(dsn, ["users", "games", "bets", "posts", "pick_actions"]), connect(dsn) as conn:
        conn.execute(USERS_SQL, {"now": NOW, "users": users})
        conn.execute(STATS_GAMES_SQL, {"now": NOW})
        conn.execute(STATS_BETS_SQL, {"now": NOW, "users": users})
        conn.execute(STATS_PICKS_SQL, {"cdn": CDN, "users": users})
        conn.execute(STATS_ACTIONS_SQL, {"users": users})


def fill_badges(dsn: str, users: int) -> None:
    """users users with a week of bets and posts, the tails and fades, the badges they hold."""
    params = {"now": NOW, "monday": MONDAY, "week": MONDAY.date(), "users": users, "cdn": CDN,
              "badges": list(BADGES)}
    tables = ["users", "games", "bets", "posts", "pick_actions", "user_badges", "badge_history"]
    with deferred(dsn, tables), connect(dsn) as conn:
        conn.execute(USERS_SQL, params)
        for statement in (BADGE_GAMES_SQL, BADGE_BETS_SQL, BADGE_POSTS_SQL, BADGE_ACTIONS_SQL, BADGE_HELD_SQL,
                          BADGE_HISTORY_SQL):
            conn.execute(statement, params)


def fill_cleanup(dsn: str, users: int) -> None:
    """users users with notifications, a post each with reactions, finished runs, chats."""
    params = {"now": NOW, "users": users, "cdn": CDN, "runs": users // 2, "chats": users // 10}
    tables = ["users", "notifications", "jobs.job_executions", "posts", "reactions", "chats", "chat_members"]
    with deferred(dsn, tables), connect(dsn) as conn:
        conn.execute(USERS_SQL, params)
        for statement in (CLEANUP_NOTIFICATIONS_SQL, CLEANUP_RUNS_SQL, CLEANUP_POSTS_SQL, CLEANUP_REACTIONS_SQL,
                          CLEANUP_CHATS_SQL, CLEANUP_MEMBERS_SQL):
            conn.execute(statement, params)


def fill_cost(dsn: str, posts: int, expired: int) -> None:
    """COST_USERS users and the cost template's rows (COST_GAMES_SQL and below)."""
    params = {"now": NOW, "users": COST_USERS, "cdn": CDN, "every": max(1, posts // expired), "expired": expired,
              "old": posts // 10 + expired * 11 // 10, "live": posts // 20, "due": expired // 10}
    tables = ["users", "games", "bets", "posts", "comments", "stories", "chats", "messages"]
    with deferred(dsn, tables):
        with connect(dsn) as conn:
            conn.execute(USERS_SQL, params)
            conn.execute(COST_GAMES_SQL, params)
            # Picks without a game: posts_bet_requirement forbids them (and any update of one),
            # so this template goes without it, as tests/test_expire_content.py's picks do.
            conn.execute("ALTER TABLE posts DROP CONSTRAINT posts_bet_requirement")

        def insert(first: int) -> None:
            with connect(dsn) as conn:
                chunk = {**params, "first": first, "last": min(posts, first + CHUNK - 1)}
                conn.execute(COST_BETS_SQL, chunk)
                conn.execute(COST_POSTS_SQL, chunk)

        with ThreadPoolExecutor(LOADERS) as pool:
            list(pool.map(insert, range(1, posts + 1, CHUNK)))
        with connect(dsn) as conn:
            for statement in (COST_OLD_SQL, COST_COMMENTS_SQL, COST_STORIES_SQL, COST_CHATS_SQL):
                conn.execute(statement, params)
            conn.execute("ALTER TABLE messages DISABLE TRIGGER update_chat_last_message_time")
            conn.execute(COST_MESSAGES_SQL, params)
            conn.execute(COST_CHAT_LAST_SQL, params)
            conn.execute("ALTER TABLE messages ENABLE TRIGGER update_chat_last_message_time")
            conn.execute(COST_STATE_SQL, params)


def fill_posts_template(dsn: str, posts: int, every: int, with_ids: bool) -> None:
    """COST_USERS users and `posts` posts, one in `every` of them expired."""
    with deferred(dsn, ["users", "posts"]):
        fill_users(dsn, COST_USERS, with_bankrolls=False)
        fill_posts(dsn, posts, COST_USERS, every)
    if with_ids:
        with connect(dsn) as conn:
            conn.execute(BENCH_IDS_SQL)


# daily_windows (bench/windows.py): users u with avatars/u<u>.png; posts w<i> by them, live, and
# gone<i> soft-deleted 40 days ago; a file for each of those, old files nothing names and the
# uploads whose 7-day grace ends 2 hours after NOW; group chats with a member (their last
# message up to 30 days old), and without: old ones, and ones made 30 minutes before NOW.
WINDOWS_SQL = [
    """UPDATE users AS u SET avatar_url = %(cdn)s || 'avatars/u' || g || '.png'
         FROM generate_series(1, %(users)s::integer) AS g WHERE u.id = md5('user' || g)::uuid""",
    """INSERT INTO posts (id, user_id, post_type, media_url, created_at, expires_at, deleted_at)
       SELECT md5('wpost' || p.name)::uuid, md5('user' || (1 + i %% %(users)s::integer))::uuid, 'content',
              %(cdn)s || 'posts/' || p.name || '.jpg', p.created_at, p.created_at + interval '30 days',
              CASE WHEN p.gone THEN %(now)s::timestamptz - interval '40 days' END
         FROM generate_series(1, %(posts)s::integer + %(posts)s::integer / 100) AS i,
              LATERAL (SELECT i > %(posts)s::integer AS gone) AS g,
              LATERAL (SELECT g.gone, CASE WHEN g.gone THEN 'gone' || i - %(posts)s::integer ELSE 'w' || i END AS name,
                              %(now)s::timestamptz - CASE WHEN g.gone THEN interval '75 days'
                                                          ELSE interval '20 days' END AS created_at) AS p""",
    """INSERT INTO storage.objects (bucket_id, name, created_at)
       SELECT 'posts', substr(p.media_url, length(%(cdn)s || 'posts/') + 1), p.created_at FROM posts AS p
       UNION ALL
       SELECT 'avatars', 'u' || g || '.png', %(now)s::timestamptz - interval '60 days'
         FROM generate_series(1, %(users)s::integer) AS g
       UNION ALL
       SELECT 'posts', 'orphan' || i || '.jpg', %(now)s::timestamptz - interval '20 days'
         FROM generate_series(1, %(posts)s::integer / 100) AS i
       UNION ALL
       SELECT 'posts', 'upload' || i || '.jpg', %(now)s::timestamptz - interval '7 days' + interval '2 hours'
         FROM generate_series(1, %(posts)s::integer / 1000) AS i""",
    """INSERT INTO chats (id, chat_type, name, created_at, last_message_at)
       SELECT md5('wchat' || c)::uuid, 'group'::chat_type, 'group ' || c, %(now)s::timestamptz - interval '30 days',
              %(now)s::timestamptz - (c %% 30) * interval '1 day' - interval '1 hour'
         FROM generate_series(1, %(posts)s::integer / 10) AS c
       UNION ALL
       SELECT md5('wold' || c)::uuid, 'group', 'old ' || c, %(now)s::timestamptz - interval '20 days', NULL
         FROM generate_series(1, %(posts)s::integer / 1000) AS c
       UNION ALL
       SELECT md5('wnew' || c)::uuid, 'group', 'new ' || c, %(now)s::timestamptz - interval '30 minutes', NULL
         FROM generate_series(1, %(posts)s::integer / 1000) AS c""",
    """INSERT INTO chat_members (chat_id, user_id)
       SELECT md5('wchat' || c)::uuid, md5('user' || (1 + c %% %(users)s::integer))::uuid
         FROM generate_series(1, %(posts)s::integer / 10) AS c""",
]


def fill_windows(dsn: str, posts: int) -> None:
    params = {"now": NOW, "users": posts // 10, "posts": posts, "cdn": CDN}
    with deferred(dsn, ["users", "posts", "chats", "chat_members"]):
        with connect(dsn) as conn:
            conn.execute(USERS_SQL, params)
            for statement in WINDOWS_SQL:
                conn.execute(statement, params)
