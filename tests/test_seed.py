"""The demo seed (deployer.seed, sql/seed/seed.sql) on a real database.

Every test gets `conn`: an autocommit connection to a fresh database in which sql/app is
installed with app_schema=public and storage_schema=storage.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from deployer.errors import UsageError
from deployer.install import install_app_schema
from deployer.seed import SYSTEM_USER_ID, seed
from tests import factories

VARIABLES = {"app_schema": "public", "storage_schema": "storage"}
NOW = datetime(2025, 3, 12, 15, 30, tzinfo=timezone.utc)  # a Wednesday
WEEK_START = datetime(2025, 3, 10, tzinfo=timezone.utc)  # its Monday 00:00 UTC
USERS = 200
SEED = 42
CDN = "https://cdn.snapbet.invalid/storage/v1/object/public/"

# The keys seed() returns, and the table each one counts ({app} / {storage} schemas). The
# reference schema brings SnapBet's system user along: not the seed's.
TABLES = {
    "users": f"(SELECT * FROM {{app}}.users WHERE id <> '{SYSTEM_USER_ID}')",
    "referrals": "{app}.referrals",
    "bankrolls": "{app}.bankrolls",
    "games": "{app}.games",
    "bets": "{app}.bets",
    "posts": "{app}.posts",
    "pick_actions": "{app}.pick_actions",
    "comments": "{app}.comments",
    "reactions": "{app}.reactions",
    "stories": "{app}.stories",
    "story_views": "{app}.story_views",
    "chats": "{app}.chats",
    "chat_members": "{app}.chat_members",
    "messages": "{app}.messages",
    "message_reads": "{app}.message_reads",
    "notifications": "{app}.notifications",
    "storage.objects": "{storage}.objects",
}

# Every user has a bankroll (conservation (docs/rules.md: Money) itself is factories.conservation_violations).
USERS_WITHOUT_BANKROLL = f"""
SELECT u.id FROM {{app}}.users u
 WHERE NOT EXISTS (SELECT 1 FROM {{app}}.bankrolls br WHERE br.user_id = u.id)
   AND u.id <> '{SYSTEM_USER_ID}'
"""

# Settled bets whose status or actual_win disagree with settle_games (docs/rules.md: The jobs), re-derived
# from bet_details and the score as a job would read them.
MISGRADED = """
SELECT b.id
  FROM {app}.bets b
  JOIN {app}.games g ON g.id = b.game_id
 CROSS JOIN LATERAL (
        SELECT CASE b.bet_type
                   WHEN 'spread' THEN
                       CASE WHEN b.bet_details ->> 'team' = g.home_team
                            THEN g.home_score - g.away_score
                            ELSE g.away_score - g.home_score END
                       + (b.bet_details ->> 'line')::numeric
                   WHEN 'total' THEN
                       CASE WHEN b.bet_details ->> 'total_type' = 'over'
                            THEN g.home_score + g.away_score - (b.bet_details ->> 'line')::numeric
                            ELSE (b.bet_details ->> 'line')::numeric - g.home_score - g.away_score
                       END
                   ELSE CASE WHEN b.bet_details ->> 'team' = g.home_team
                             THEN g.home_score - g.away_score
                             ELSE g.away_score - g.home_score END
               END AS margin
       ) m
 WHERE b.status IN ('won', 'lost', 'push')
   AND (g.status <> 'completed'
        OR b.status::text <> CASE WHEN m.margin > 0 THEN 'won'
                                  WHEN m.margin < 0 THEN 'lost'
                                  ELSE 'push' END
        OR b.actual_win <> CASE b.status WHEN 'won' THEN b.potential_win
                                         WHEN 'lost' THEN -b.stake
                                         ELSE 0 END
        OR b.settled_at IS NULL)
"""

# Every media URL the app tables hold, as (bucket, name) of storage.objects.
MEDIA_REFERENCES = """
SELECT u FROM (
    SELECT media_url FROM {app}.posts
    UNION ALL SELECT thumbnail_url FROM {app}.posts
    UNION ALL SELECT media_url FROM {app}.stories
    UNION ALL SELECT media_url FROM {app}.messages
    UNION ALL SELECT avatar_url FROM {app}.users
) AS r(u)
WHERE u IS NOT NULL
"""


def query(conn, text: str, *params, app: str = "public", storage: str = "storage"):
    """Run `text` with {app} and {storage} bound to quoted schema names; return all rows as
    tuples. Parameters are positional (%s), or one dict for named ones (%(name)s)."""
    statement = sql.SQL(text).format(app=sql.Identifier(app), storage=sql.Identifier(storage))
    args = params[0] if len(params) == 1 and isinstance(params[0], dict) else params
    with conn.cursor(row_factory=tuple_row) as cur:
        return cur.execute(statement, args or None).fetchall()


def scalar(conn, text: str, *params, **schemas):
    return query(conn, text, *params, **schemas)[0][0]


def run_seed(conn, users: int = USERS, seed_value: int = SEED, now=NOW, variables=None):
    return seed(conn, users=users, seed=seed_value, now=now, variables=variables or VARIABLES)


def digest(conn, app: str = "public", storage: str = "storage") -> dict[str, str]:
    """md5 of every seeded table's rows, in a stable order."""
    return {
        key: scalar(
            conn,
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t",
            app=app,
            storage=storage,
        )
        for key, table in TABLES.items()
    }


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("users", [0, -1])
def test_fewer_than_one_user_is_refused(conn, users):
    with pytest.raises(UsageError, match="at least 1"):
        run_seed(conn, users=users)
    assert scalar(conn, f"SELECT count(*) FROM {TABLES['users']} u") == 0
    assert scalar(conn, "SELECT count(*) FROM {app}.games") == 0


def test_a_second_seed_is_refused_and_changes_nothing(conn):
    run_seed(conn)
    before = digest(conn)
    with pytest.raises(UsageError) as refused:
        run_seed(conn, seed_value=SEED + 1)
    assert str(refused.value) == (
        f"the database already holds {USERS} users; seed works on an empty app schema"
    )
    assert digest(conn) == before


# -- what it creates ------------------------------------------------------------------------


def test_counts_are_the_rows_of_every_table(conn):
    counts = run_seed(conn)
    assert list(counts) == list(TABLES)
    for key, table in TABLES.items():
        assert counts[key] > 0, key
        assert counts[key] == scalar(conn, f"SELECT count(*) FROM {table} t"), key
    assert counts["users"] == USERS
    assert counts["bankrolls"] == USERS


def test_conservation_holds_for_every_user(conn):
    run_seed(conn)
    assert factories.conservation_violations(conn) == []
    assert query(conn, USERS_WITHOUT_BANKROLL) == []
    low, high = query(conn, "SELECT min(balance), max(balance) FROM {app}.bankrolls")[0]
    assert low >= 0
    assert high > low
    # weekly_deposit and referral_bonus follow the referrals
    assert scalar(conn, """
        SELECT count(*)
          FROM {app}.bankrolls br
          JOIN {app}.users u ON u.id = br.user_id
         WHERE u.referral_count <> (SELECT count(*) FROM {app}.referrals r WHERE r.referrer_id = u.id)
            OR br.referral_bonus <> 10000 * u.referral_count
            OR br.weekly_deposit <> 100000 + 10000 * u.referral_count
    """) == 0
    assert scalar(conn, "SELECT count(*) FROM {app}.users WHERE referral_count > 0") > 0


def test_a_sweeper_backs_at_most_four_sunday_games_however_many_there_are(conn):
    # 4,000 users: 160 games, 12 of them NFL games on the week's Sunday, all started by Sunday
    # 20:00. Backing every one grew with the users until, past 40,000, a sweeper staked more
    # than a week's deposit (the balance check failed) and, at 100,000, two sweepers' keys overlapped.
    run_seed(conn, users=4000, now=datetime(2025, 3, 16, 20, 0, tzinfo=timezone.utc))
    sweeps = query(conn, """
        SELECT b.user_id, count(*) AS n
          FROM {app}.bets b JOIN {app}.games g ON g.id = b.game_id
         WHERE g.sport = 'americanfootball_nfl' AND b.stake = 500 AND b.bet_type = 'moneyline'
           AND b.created_at >= '2025-03-16' AND g.commence_time >= '2025-03-16' AND g.commence_time < '2025-03-17'
           AND NOT b.is_tail AND NOT b.is_fade
         GROUP BY b.user_id HAVING count(*) >= 3""")
    assert sweeps and max(n for _, n in sweeps) == 4
    assert factories.conservation_violations(conn) == []


def test_bets_are_graded_by_the_settle_rules(conn):
    run_seed(conn)
    assert query(conn, MISGRADED) == []
    statuses = {row[0] for row in query(conn, "SELECT DISTINCT status::text FROM {app}.bets")}
    assert {"pending", "won", "lost", "cancelled"} <= statuses
    assert scalar(conn, """
        SELECT count(*) FROM {app}.bets
         WHERE stake < 500
            OR potential_win <> CASE WHEN odds < 0 THEN stake * 100 / -odds
                                     ELSE stake * odds / 100 END
    """) == 0
    # every bet was placed before its game started, and nothing happens after `now`
    assert scalar(conn, """
        SELECT count(*) FROM {app}.bets b JOIN {app}.games g ON g.id = b.game_id
         WHERE b.created_at >= g.commence_time OR b.settled_at > %s
    """, NOW) == 0


def test_all_three_post_types_reference_their_own_bets(conn):
    run_seed(conn)
    types = dict(query(conn, "SELECT post_type, count(*) FROM {app}.posts GROUP BY 1"))
    assert set(types) == {"content", "pick", "outcome"}
    assert scalar(conn, """
        SELECT count(*) FROM {app}.posts p
          LEFT JOIN {app}.bets b ON b.id = coalesce(p.bet_id, p.settled_bet_id)
         WHERE (p.post_type = 'pick' AND (b.user_id <> p.user_id OR p.settled_bet_id IS NOT NULL))
            OR (p.post_type = 'outcome' AND (b.user_id <> p.user_id
                                             OR b.status NOT IN ('won', 'lost', 'push')))
            OR (p.post_type = 'content' AND b.id IS NOT NULL)
    """) == 0


def test_tails_and_fades_copy_or_oppose_the_pick(conn):
    run_seed(conn)
    tails, fades = query(conn, """
        SELECT count(*) FILTER (WHERE is_tail), count(*) FILTER (WHERE is_fade) FROM {app}.bets
    """)[0]
    assert tails > 0
    assert fades > 0
    assert scalar(conn, "SELECT count(*) FROM {app}.pick_actions") == tails + fades
    assert scalar(conn, """
        SELECT count(*)
          FROM {app}.pick_actions pa
          JOIN {app}.bets t ON t.id = pa.resulting_bet_id
          JOIN {app}.posts p ON p.id = pa.post_id
          JOIN {app}.bets o ON o.id = p.bet_id
         WHERE t.original_pick_id <> p.id
            OR t.game_id <> o.game_id
            OR t.user_id <> pa.user_id
            OR pa.user_id = p.user_id
            OR t.is_tail <> (pa.action_type = 'tail')
            OR t.is_fade <> (pa.action_type = 'fade')
            OR (pa.action_type = 'tail') <> (t.bet_details = o.bet_details)
            OR (pa.action_type = 'fade' AND o.status IN ('won', 'lost') AND t.status = o.status)
    """) == 0
    assert scalar(conn, """
        SELECT count(*) FROM {app}.posts p
         WHERE p.tail_count <> (SELECT count(*) FROM {app}.pick_actions pa
                                 WHERE pa.post_id = p.id AND pa.action_type = 'tail')
            OR p.fade_count <> (SELECT count(*) FROM {app}.pick_actions pa
                                 WHERE pa.post_id = p.id AND pa.action_type = 'fade')
    """) == 0


def test_media_objects_match_the_urls_plus_some_orphans(conn):
    run_seed(conn)
    missing = scalar(conn, f"""
        SELECT count(*) FROM ({MEDIA_REFERENCES}) r
         WHERE NOT EXISTS (SELECT 1 FROM {{storage}}.objects o
                            WHERE r.u = %s || o.bucket_id || '/' || o.name)
    """, CDN)
    assert missing == 0
    old_orphans, new_orphans = query(conn, f"""
        SELECT count(*) FILTER (WHERE o.created_at < %s - interval '7 days'),
               count(*) FILTER (WHERE o.created_at >= %s - interval '7 days')
          FROM {{storage}}.objects o
         WHERE o.bucket_id IN ('posts', 'messages', 'avatars', 'stories')
           AND NOT EXISTS (SELECT 1 FROM ({MEDIA_REFERENCES}) r
                            WHERE r.u = %s || o.bucket_id || '/' || o.name)
    """, NOW, NOW, CDN)[0]
    assert old_orphans > 0
    assert new_orphans > 0
    assert old_orphans < scalar(conn, "SELECT count(*) FROM {storage}.objects") * 0.1


def test_times_follow_now_and_its_week(conn):
    run_seed(conn, now=NOW.replace(tzinfo=None))  # naive means UTC
    resets = dict(query(conn, "SELECT last_reset, count(*) FROM {app}.bankrolls GROUP BY 1"))
    assert set(resets) == {WEEK_START, WEEK_START - timedelta(days=7), None}
    assert resets[WEEK_START] > resets[WEEK_START - timedelta(days=7)] > resets[None]
    latest = scalar(conn, """
        SELECT max(t) FROM (
            SELECT max(created_at) FROM {app}.bets UNION ALL
            SELECT max(settled_at) FROM {app}.bets UNION ALL
            SELECT max(created_at) FROM {app}.posts UNION ALL
            SELECT max(deleted_at) FROM {app}.posts UNION ALL
            SELECT max(created_at) FROM {app}.messages UNION ALL
            SELECT max(read_at) FROM {app}.message_reads UNION ALL
            SELECT max(created_at) FROM {app}.notifications UNION ALL
            SELECT max(created_at) FROM {storage}.objects
        ) AS x(t)
    """)
    assert NOW - timedelta(hours=1) < latest <= NOW


def test_weeks_start_on_monday_in_the_configured_timezone(conn):
    # New York moved to daylight time on Sunday 2025-03-09: this week's Monday 00:00 is
    # 04:00 UTC, the previous one 05:00 UTC.
    run_seed(conn, variables={**VARIABLES, "timezone": "America/New_York"})
    resets = {row[0] for row in query(conn, "SELECT DISTINCT last_reset FROM {app}.bankrolls")}
    assert resets == {
        datetime(2025, 3, 10, 4, tzinfo=timezone.utc),
        datetime(2025, 3, 3, 5, tzinfo=timezone.utc),
        None,
    }
    assert factories.conservation_violations(conn) == []
    assert query(conn, USERS_WITHOUT_BANKROLL) == []


def test_every_job_finds_work(conn):
    """The seed is a demo: each job of docs/rules.md has something to do at `now`."""
    run_seed(conn)
    work = dict(query(conn, """
        SELECT 'settle: completed games with pending bets', count(DISTINCT g.id)
          FROM {app}.games g JOIN {app}.bets b ON b.game_id = g.id
         WHERE g.status = 'completed' AND b.status = 'pending'
        UNION ALL
        SELECT 'settle: cancelled games with pending bets', count(DISTINCT g.id)
          FROM {app}.games g JOIN {app}.bets b ON b.game_id = g.id
         WHERE g.status = 'cancelled' AND b.status = 'pending'
        UNION ALL
        SELECT 'live games', count(*) FROM {app}.games WHERE status = 'live'
        UNION ALL
        SELECT 'reset: bankrolls before this week', count(*) FROM {app}.bankrolls
         WHERE last_reset IS NULL OR last_reset < %(week)s
        UNION ALL
        SELECT 'expire: expired live posts', count(*) FROM {app}.posts
         WHERE deleted_at IS NULL AND expires_at <= %(now)s
        UNION ALL
        SELECT 'expire: picks whose game started 3 h ago', count(*)
          FROM {app}.posts p JOIN {app}.bets b ON b.id = p.bet_id
          JOIN {app}.games g ON g.id = b.game_id
         WHERE p.post_type = 'pick' AND p.deleted_at IS NULL
           AND g.commence_time <= %(now)s - interval '3 hours'
        UNION ALL
        SELECT 'expire: expired live stories', count(*) FROM {app}.stories
         WHERE deleted_at IS NULL AND expires_at <= %(now)s
        UNION ALL
        SELECT 'expire: expired live messages', count(*) FROM {app}.messages
         WHERE deleted_at IS NULL AND expires_at <= %(now)s
        UNION ALL
        SELECT 'expire: live comments of deleted posts', count(*)
          FROM {app}.comments c JOIN {app}.posts p ON p.id = c.post_id
         WHERE c.deleted_at IS NULL AND p.deleted_at IS NOT NULL
        UNION ALL
        SELECT 'expire: posts deleted over 30 days ago', count(*) FROM {app}.posts
         WHERE deleted_at < %(now)s - interval '30 days'
        UNION ALL
        SELECT 'cleanup: notifications over 30 days old', count(*) FROM {app}.notifications
         WHERE created_at < %(now)s - interval '30 days'
        UNION ALL
        SELECT 'cleanup: reactions on deleted posts', count(*)
          FROM {app}.reactions r JOIN {app}.posts p ON p.id = r.post_id
         WHERE p.deleted_at IS NOT NULL
        UNION ALL
        SELECT 'cleanup: group chats without members', count(*) FROM {app}.chats c
         WHERE c.chat_type = 'group'
           AND NOT EXISTS (SELECT 1 FROM {app}.chat_members m WHERE m.chat_id = c.id)
        UNION ALL
        SELECT 'badges: users with 3+ settled bets this week', count(*) FROM (
            SELECT user_id FROM {app}.bets
             WHERE status IN ('won', 'lost') AND created_at >= %(week)s
             GROUP BY user_id HAVING count(*) >= 3) x
    """, {"now": NOW, "week": WEEK_START}))
    assert {name: n for name, n in work.items() if n == 0} == {}


def test_same_arguments_give_the_same_data(conn):
    twin = {"app_schema": "seed twin", "storage_schema": "seed twin storage"}
    other = {"app_schema": "seed other", "storage_schema": "seed other storage"}
    for variables in (twin, other):
        install_app_schema(conn, variables)
    run_seed(conn)
    run_seed(conn, variables=twin)
    run_seed(conn, seed_value=SEED + 1, variables=other)
    original = digest(conn)
    assert digest(conn, twin["app_schema"], twin["storage_schema"]) == original
    different = digest(conn, other["app_schema"], other["storage_schema"])
    assert different["bets"] != original["bets"]
    assert different["users"] != original["users"]


def test_indexes_foreign_keys_and_triggers_come_back_unchanged(conn):
    """The seed drops foreign keys and secondary indexes and pauses the triggers while it
    loads; all return, each trigger in the mode it had (a disabled one stays disabled)."""
    conn.execute("ALTER TABLE public.comments ENABLE ALWAYS TRIGGER update_comment_count_trigger")
    conn.execute("ALTER TABLE public.story_views DISABLE TRIGGER increment_story_view_count")
    definitions = """
        SELECT 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid), true
          FROM pg_index WHERE indrelid IN (SELECT oid FROM pg_class
                                            WHERE relnamespace IN (%(app)s::regnamespace,
                                                                   %(storage)s::regnamespace))
        UNION ALL
        SELECT 'constraint', conname, pg_get_constraintdef(oid), convalidated
          FROM pg_constraint WHERE conrelid IN (SELECT oid FROM pg_class
                                                 WHERE relnamespace IN (%(app)s::regnamespace,
                                                                        %(storage)s::regnamespace))
        UNION ALL
        SELECT 'trigger ' || tgenabled::text, tgname, pg_get_triggerdef(oid), true
          FROM pg_trigger WHERE NOT tgisinternal
         ORDER BY 1, 2, 3
    """
    schemas = {"app": "public", "storage": "storage"}
    before = query(conn, definitions, schemas)
    assert sum(1 for kind, *_ in before if kind == "constraint") > 20
    assert {kind for kind, *_ in before if kind.startswith("trigger")} == {"trigger A", "trigger D", "trigger O"}
    run_seed(conn)
    assert query(conn, definitions, schemas) == before
    # The ALWAYS trigger was paused too: each comment counted as the seed says, not once more.
    assert scalar(conn, """
        SELECT count(*) FROM {app}.posts p
         WHERE p.comment_count <> (SELECT 2 * count(*) - count(c.deleted_at) FROM {app}.comments c
                                    WHERE c.post_id = p.id)
    """) == 0


# -- what SnapBet's triggers would have written -----------------------------------------------

# Replays the seeded rows, one at a time and in time order, through the real triggers of a
# second copy of the reference schema (`replay`, on the search_path, as SnapBet's triggers
# need): the rows go in with the counters at their defaults, comments are written live and
# soft-deleted at their deleted_at, and each bankroll starts at its deposit and moves with
# every placing (-stake) and settling (+stake + actual_win) since its last reset.
REPLAY = f"""
SET LOCAL search_path = replay;
INSERT INTO replay.users (id, email, username, avatar_url, referral_count, is_mock, created_at, updated_at,
                          deleted_at)
SELECT id, email, username, avatar_url, 0, is_mock, created_at, created_at, deleted_at
  FROM public.users WHERE id <> '{SYSTEM_USER_ID}';
INSERT INTO replay.games
SELECT id, sport, sport_title, home_team, away_team, commence_time, home_score, away_score,
       status::text::replay.game_status
  FROM public.games;
INSERT INTO replay.bets
SELECT id, user_id, game_id, bet_type::text::replay.bet_type, bet_details, stake, odds, potential_win, actual_win,
       status::text::replay.bet_status, created_at, settled_at, expires_at, is_tail, is_fade, original_pick_id
  FROM public.bets;
INSERT INTO replay.bankrolls (user_id, balance, season_high, season_low, weekly_deposit, last_reset)
SELECT user_id, weekly_deposit, weekly_deposit, weekly_deposit, weekly_deposit, last_reset FROM public.bankrolls;
INSERT INTO replay.posts (id, user_id, bet_id, settled_bet_id, post_type, media_url, created_at, expires_at,
                          deleted_at)
SELECT id, user_id, bet_id, settled_bet_id, post_type, media_url, created_at, expires_at, deleted_at
  FROM public.posts;
INSERT INTO replay.stories (id, user_id, media_url, created_at, expires_at, deleted_at)
SELECT id, user_id, media_url, created_at, expires_at, deleted_at FROM public.stories;
INSERT INTO replay.chats (id, chat_type, name, settings, created_at)
SELECT id, chat_type::text::replay.chat_type, name, settings, created_at FROM public.chats;
DO $replay$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM public.referrals ORDER BY created_at, id LOOP
        INSERT INTO replay.referrals (id, referrer_id, referred_id, code, created_at)
        VALUES (r.id, r.referrer_id, r.referred_id, r.code, r.created_at);
    END LOOP;
    FOR r IN SELECT c.*, e.at, e.step
               FROM public.comments c
              CROSS JOIN LATERAL (VALUES (c.created_at, 1), (c.deleted_at, 2)) AS e(at, step)
              WHERE e.at IS NOT NULL
              ORDER BY e.at, c.id, e.step LOOP
        IF r.step = 1 THEN
            INSERT INTO replay.comments (id, post_id, user_id, content, created_at)
            VALUES (r.id, r.post_id, r.user_id, r.content, r.created_at);
        ELSE
            UPDATE replay.comments SET deleted_at = r.deleted_at WHERE id = r.id;
        END IF;
    END LOOP;
    FOR r IN SELECT * FROM public.reactions ORDER BY created_at, id LOOP
        INSERT INTO replay.reactions (id, post_id, user_id, emoji, created_at)
        VALUES (r.id, r.post_id, r.user_id, r.emoji, r.created_at);
    END LOOP;
    FOR r IN SELECT * FROM public.pick_actions ORDER BY created_at, id LOOP
        INSERT INTO replay.pick_actions (id, post_id, user_id, action_type, resulting_bet_id, created_at)
        VALUES (r.id, r.post_id, r.user_id, r.action_type::text::replay.pick_action, r.resulting_bet_id,
                r.created_at);
    END LOOP;
    FOR r IN SELECT * FROM public.story_views ORDER BY viewed_at, id LOOP
        INSERT INTO replay.story_views (id, story_id, viewer_id, viewed_at)
        VALUES (r.id, r.story_id, r.viewer_id, r.viewed_at);
    END LOOP;
    FOR r IN SELECT * FROM public.messages ORDER BY created_at, id LOOP
        INSERT INTO replay.messages (id, chat_id, sender_id, content, media_url, created_at, expires_at, deleted_at,
                                     message_type, metadata)
        VALUES (r.id, r.chat_id, r.sender_id, r.content, r.media_url, r.created_at, r.expires_at, r.deleted_at,
                r.message_type, r.metadata);
    END LOOP;
    FOR r IN SELECT b.user_id, e.at, e.delta
               FROM public.bets b
               JOIN public.bankrolls br ON br.user_id = b.user_id
              CROSS JOIN LATERAL (VALUES (b.created_at, b.id, 1, -b.stake),
                                         (b.settled_at, b.id, 2, b.stake + b.actual_win)) AS e(at, id, step, delta)
              WHERE (br.last_reset IS NULL OR b.created_at >= br.last_reset)
                AND (e.step = 1 OR b.status <> 'pending')
              ORDER BY e.at, e.id, e.step LOOP
        UPDATE replay.bankrolls SET balance = balance + r.delta WHERE user_id = r.user_id;
    END LOOP;
END
$replay$;
"""

# (what, seeded rows, replayed rows): each pair must hold the same rows.
REPLAYED = {
    "posts": "SELECT id, comment_count, reaction_count, tail_count, fade_count FROM {s}.posts",
    "stories": "SELECT id, view_count FROM {s}.stories",
    "chats": "SELECT id, last_message_at FROM {s}.chats",
    "users": "SELECT id, referral_count FROM {s}.users",
    "bankrolls": "SELECT user_id, balance, season_high, season_low FROM {s}.bankrolls",
}


def test_counters_are_what_snapbets_triggers_would_have_written(conn):
    run_seed(conn)
    install_app_schema(conn, {"app_schema": "replay", "storage_schema": "replay_storage"})
    with conn.transaction():
        conn.execute(REPLAY)
    for what, rows in REPLAYED.items():
        seeded, replayed = rows.format(s="public"), rows.format(s="replay")
        assert query(conn, f"({seeded} EXCEPT {replayed}) UNION ALL ({replayed} EXCEPT {seeded})") == [], what
    # The replay had something to count: SnapBet's double count of comments included.
    assert scalar(conn, "SELECT count(*) FROM {app}.comments WHERE deleted_at IS NOT NULL") > 0
    assert scalar(conn, """
        SELECT count(*) FROM {app}.posts p
         WHERE p.comment_count > (SELECT count(*) FROM {app}.comments c WHERE c.post_id = p.id)
    """) > 0
    assert scalar(conn, """
        SELECT count(*) FROM {app}.bankrolls
         WHERE season_low < least(balance, weekly_deposit) OR season_high > greatest(balance, weekly_deposit)
    """) > 0


def test_updated_at_is_the_time_of_the_last_change_the_triggers_saw(conn):
    """update_*_updated_at stamps now(): a referrer at its last referral; a bankroll at its
    last reset, placing or settling (else its creation)."""
    run_seed(conn)
    assert scalar(conn, """
        SELECT count(*) FROM {app}.users u
         WHERE u.updated_at IS DISTINCT FROM greatest(u.created_at, (SELECT max(r.created_at) FROM {app}.referrals r
                                                                      WHERE r.referrer_id = u.id))
           AND u.id <> %s
    """, SYSTEM_USER_ID) == 0
    assert scalar(conn, """
        SELECT count(*) FROM {app}.bankrolls br
         WHERE br.updated_at IS DISTINCT FROM greatest(
                   br.created_at, br.last_reset,
                   (SELECT greatest(max(b.created_at), max(b.settled_at)) FROM {app}.bets b
                     WHERE b.user_id = br.user_id AND (br.last_reset IS NULL OR b.created_at >= br.last_reset)))
    """) == 0
    assert scalar(conn, "SELECT count(*) FROM {app}.users WHERE updated_at > created_at") > 0


def test_a_trigger_it_cannot_pause_stops_the_seed_before_it_writes(conn):
    """Seeding as a role that owns every table but comments (whose triggers it then cannot
    disable) is refused: those triggers would count every comment again."""
    conn.execute("""
        DO $$
        DECLARE r record;
        BEGIN
            DROP ROLE IF EXISTS jobset_seeder;
            CREATE ROLE jobset_seeder;
            FOR r IN SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables
                      WHERE schemaname IN ('public', 'storage') LOOP
                EXECUTE format('ALTER TABLE %s OWNER TO jobset_seeder', r.t);
            END LOOP;
        END $$;
        ALTER TABLE public.comments OWNER TO postgres;
        GRANT ALL ON public.comments TO jobset_seeder;
        GRANT USAGE ON SCHEMA public, storage TO jobset_seeder;
    """)
    try:
        conn.execute("SET ROLE jobset_seeder")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must own them: public.comments\\n"):
            run_seed(conn)
        conn.execute("RESET ROLE")
        assert scalar(conn, f"SELECT count(*) FROM {TABLES['users']} u") == 0
    finally:
        conn.execute("RESET ROLE")
        conn.execute("REASSIGN OWNED BY jobset_seeder TO postgres; DROP OWNED BY jobset_seeder;"
                     " DROP ROLE jobset_seeder")
