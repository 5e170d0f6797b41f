"""SnapBet's triggers and constraints in the reference schema (sql/app, docs/rules.md: The app's data).

Every test gets `conn`: an autocommit connection to a fresh database with sql/app (and the
job set) installed in `public`, on the default search_path, as SnapBet's own database has
it. Each trigger is checked by the values it leaves.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from deployer.install import install_app_schema
from deployer.seed import SYSTEM_USER_ID
from tests import factories

NOW = datetime(2026, 3, 12, 15, 30, tzinfo=timezone.utc)
DAY = timedelta(days=1)
VARIABLES = {"app_schema": "public", "storage_schema": "storage"}

# docs/rules.md: The app's data "SnapBet's triggers": table, trigger, function, as pg_get_triggerdef prints them.
TRIGGERS = {
    ("users", "update_users_updated_at"):
        "BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()",
    ("bankrolls", "update_bankrolls_updated_at"):
        "BEFORE UPDATE ON public.bankrolls FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()",
    ("bankrolls", "update_bankroll_high_low"):
        "BEFORE UPDATE OF balance ON public.bankrolls FOR EACH ROW EXECUTE FUNCTION update_bankroll_stats()",
    ("comments", "update_comment_count_trigger"):
        "AFTER INSERT OR DELETE ON public.comments FOR EACH ROW EXECUTE FUNCTION update_comment_count()",
    ("comments", "update_post_comment_count_trigger"):
        "AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON public.comments FOR EACH ROW"
        " EXECUTE FUNCTION update_post_comment_count()",
    ("reactions", "update_post_reaction_count"):
        "AFTER INSERT OR DELETE ON public.reactions FOR EACH ROW EXECUTE FUNCTION update_reaction_count()",
    ("pick_actions", "update_post_pick_counts"):
        "AFTER INSERT OR DELETE ON public.pick_actions FOR EACH ROW EXECUTE FUNCTION update_post_counts()",
    ("story_views", "increment_story_view_count"):
        "AFTER INSERT ON public.story_views FOR EACH ROW EXECUTE FUNCTION increment_story_views()",
    ("messages", "update_chat_last_message_time"):
        "AFTER INSERT ON public.messages FOR EACH ROW EXECUTE FUNCTION update_chat_last_message()",
    ("referrals", "trigger_update_referral_count"):
        "AFTER INSERT ON public.referrals FOR EACH ROW EXECUTE FUNCTION update_referral_count()",
    ("chat_members", "chat_member_removal_trigger"):
        "AFTER DELETE ON public.chat_members FOR EACH ROW EXECUTE FUNCTION handle_chat_member_removal()",
    ("chat_members", "cleanup_empty_chats_trigger"):
        "AFTER DELETE ON public.chat_members FOR EACH ROW EXECUTE FUNCTION cleanup_empty_chats()",
}
FUNCTIONS = sorted({definition.rsplit("FUNCTION ", 1)[1].rstrip("()") for definition in TRIGGERS.values()})

# The reference schema's catalog as text: columns (type, NOT NULL, default), constraints,
# triggers with their mode, indexes, functions (their whole definition).
CATALOG = """
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') AS line
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace IN ('public'::regnamespace, 'storage'::regnamespace) AND c.relkind = 'r'
   AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
       || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END
  FROM pg_constraint WHERE connamespace IN ('public'::regnamespace, 'storage'::regnamespace)
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(oid) || ' ' || tgenabled::text FROM pg_trigger WHERE NOT tgisinternal
UNION ALL
SELECT 'index ' || pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid IN (SELECT oid FROM pg_class
                     WHERE relnamespace IN ('public'::regnamespace, 'storage'::regnamespace))
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' ' || md5(pg_get_functiondef(p.oid))
  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'
ORDER BY 1
"""


def catalog(conn) -> list[str]:
    return [r["line"] for r in conn.execute(CATALOG).fetchall()]


def value(conn, query: str, *params):
    row = conn.execute(query, params).fetchone()
    return next(iter(row.values()))


def post_counts(conn, post_id) -> dict:
    return conn.execute("SELECT comment_count, reaction_count, tail_count, fade_count FROM public.posts"
                        " WHERE id = %s", (post_id,)).fetchone()


def live_post(conn, author=None, **values):
    author = author or factories.user(conn)
    return factories.post(conn, author, created_at=NOW - DAY, expires_at=NOW + DAY, **values)


def group(conn, members: list[tuple[str, str]]) -> tuple[object, list]:
    """A group chat; members as (username, role), joined one hour apart in that order."""
    chat_id = factories.chat(conn, chat_type="group")
    users = []
    for i, (username, role) in enumerate(members):
        user_id = factories.user(conn, username=username)
        factories.chat_member(conn, chat_id, user_id, role=role, joined_at=NOW - DAY + i * timedelta(hours=1))
        users.append(user_id)
    return chat_id, users


# -- how they are written ---------------------------------------------------------------------


def test_every_trigger_of_the_spec_is_there_with_its_timing_and_events(conn):
    rows = conn.execute("""
        SELECT c.relname AS tbl, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS mode
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
           AND t.tgname NOT LIKE 'jobset\\_%'  -- the job set's own: tests/test_cleanup_media.py
    """).fetchall()
    found = {(r["tbl"], r["name"]): r["definition"] for r in rows}
    expected = {key: f"CREATE TRIGGER {key[1]} {definition}" for key, definition in TRIGGERS.items()}
    assert found == expected
    assert {r["mode"] for r in rows} == {"O"}


def test_trigger_functions_are_plain_plpgsql_security_invoker_with_no_pinned_search_path(conn):
    rows = conn.execute("""
        SELECT p.proname, l.lanname, p.prosecdef, p.proconfig, p.prosrc
          FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
         WHERE p.pronamespace = 'public'::regnamespace AND p.proname = ANY (%s)
         ORDER BY 1
    """, (FUNCTIONS,)).fetchall()
    assert [r["proname"] for r in rows] == FUNCTIONS
    for r in rows:
        assert (r["lanname"], r["prosecdef"], r["proconfig"]) == ("plpgsql", False, None), r["proname"]
        # SnapBet's way: table names without a schema in the bodies.
        assert "public." not in r["prosrc"] and '"public"' not in r["prosrc"], r["proname"]


def test_the_bodies_find_their_tables_through_the_callers_search_path(conn):
    post_id = live_post(conn)
    author = factories.user(conn)
    conn.execute("SET search_path = pg_catalog, pg_temp")
    with pytest.raises(psycopg.errors.UndefinedTable, match='relation "posts" does not exist'):
        factories.comment(conn, post_id, author, created_at=NOW)
    # The job functions' path (docs/rules.md: The runner): pg_catalog, the app schema, pg_temp.
    conn.execute("SET search_path = pg_catalog, public, pg_temp")
    factories.comment(conn, post_id, author, created_at=NOW)
    assert post_counts(conn, post_id)["comment_count"] == 2


def test_the_system_user_exists_once_and_the_schema_installs_twice_unchanged(conn):
    system = conn.execute("SELECT * FROM public.users WHERE id = %s", (SYSTEM_USER_ID,)).fetchone()
    assert (system["email"], system["username"]) == ("system@snapbet.internal", "system")
    assert value(conn, "SELECT count(*) FROM public.bankrolls WHERE user_id = %s", SYSTEM_USER_ID) == 0
    before = catalog(conn)
    assert any(line.startswith("trigger ") for line in before)
    install_app_schema(conn, VARIABLES)
    install_app_schema(conn, VARIABLES)
    assert catalog(conn) == before
    assert conn.execute("SELECT * FROM public.users WHERE id = %s", (SYSTEM_USER_ID,)).fetchone() == system


def test_an_earlier_reference_schema_ends_with_snapbets_constraints_and_triggers(conn):
    """A database deployed with this schema's earlier version: looser post checks, NOT NULL
    counters and times, role as text, no message_type, no triggers. Installing again brings
    it to the current schema."""
    current = catalog(conn)
    conn.execute("""
        DROP TRIGGER update_comment_count_trigger ON public.comments;
        DROP TRIGGER chat_member_removal_trigger ON public.chat_members;
        ALTER TABLE public.posts
            DROP CONSTRAINT posts_bet_requirement,
            DROP CONSTRAINT posts_comment_count_check,
            ADD CONSTRAINT posts_pick_bet_check CHECK (post_type <> 'pick' OR bet_id IS NOT NULL),
            ADD CONSTRAINT posts_outcome_bet_check CHECK (post_type <> 'outcome' OR settled_bet_id IS NOT NULL),
            ALTER COLUMN post_type SET DEFAULT 'content',
            ALTER COLUMN comment_count SET NOT NULL,
            ALTER COLUMN created_at SET NOT NULL;
        ALTER TABLE public.chat_members ALTER COLUMN role DROP DEFAULT,
            ALTER COLUMN role TYPE text, ALTER COLUMN role SET DEFAULT 'member', ALTER COLUMN role SET NOT NULL;
        ALTER TABLE public.messages DROP COLUMN message_type, DROP COLUMN metadata,
            ALTER COLUMN content DROP NOT NULL, ALTER COLUMN expires_at DROP DEFAULT;
        ALTER TABLE public.chats DROP CONSTRAINT chats_name_check,
            ALTER COLUMN settings SET DEFAULT '{"expiration_hours": 24}', ALTER COLUMN settings SET NOT NULL;
        ALTER TABLE public.bankrolls ALTER COLUMN last_reset DROP DEFAULT;
    """)
    assert catalog(conn) != current
    install_app_schema(conn, VARIABLES)
    assert catalog(conn) == current


# -- counters on posts ------------------------------------------------------------------------


def test_a_new_comment_counts_twice_a_soft_delete_once_a_restore_once(conn):
    """SnapBet has two comment-count triggers: both add 1 on insert; only the second sees
    a soft delete (-1) or a restore (+1)."""
    post_id, author = live_post(conn), factories.user(conn)
    first = factories.comment(conn, post_id, author, created_at=NOW)
    assert post_counts(conn, post_id)["comment_count"] == 2
    factories.comment(conn, post_id, author, created_at=NOW)
    assert post_counts(conn, post_id)["comment_count"] == 4
    conn.execute("UPDATE public.comments SET deleted_at = %s WHERE id = %s", (NOW, first))
    assert post_counts(conn, post_id)["comment_count"] == 3
    conn.execute("UPDATE public.comments SET deleted_at = %s WHERE id = %s", (NOW + DAY, first))
    assert post_counts(conn, post_id)["comment_count"] == 3  # already deleted: no change
    conn.execute("UPDATE public.comments SET content = 'edited' WHERE id = %s", (first,))
    assert post_counts(conn, post_id)["comment_count"] == 3
    conn.execute("UPDATE public.comments SET deleted_at = NULL WHERE id = %s", (first,))
    assert post_counts(conn, post_id)["comment_count"] == 4


def test_a_comment_written_already_deleted_still_counts_twice(conn):
    post_id, author = live_post(conn), factories.user(conn)
    factories.comment(conn, post_id, author, created_at=NOW - DAY, deleted_at=NOW)
    assert post_counts(conn, post_id)["comment_count"] == 2


def test_a_hard_delete_takes_two_off_floored_at_zero(conn):
    post_id, author = live_post(conn), factories.user(conn)
    live = factories.comment(conn, post_id, author, created_at=NOW)
    soft = factories.comment(conn, post_id, author, created_at=NOW)
    conn.execute("UPDATE public.comments SET deleted_at = %s WHERE id = %s", (NOW, soft))
    assert post_counts(conn, post_id)["comment_count"] == 3
    conn.execute("DELETE FROM public.comments WHERE id = %s", (live,))
    assert post_counts(conn, post_id)["comment_count"] == 1
    conn.execute("DELETE FROM public.comments WHERE id = %s", (soft,))  # -2 from 1: floored
    assert post_counts(conn, post_id)["comment_count"] == 0


def test_comment_count_may_not_go_below_zero(conn):
    post_id = live_post(conn)
    with pytest.raises(psycopg.errors.CheckViolation, match="posts_comment_count_check"):
        conn.execute("UPDATE public.posts SET comment_count = -1 WHERE id = %s", (post_id,))


def test_reactions_count_up_and_down_and_a_count_already_at_zero_fails(conn):
    post_id, author = live_post(conn), factories.user(conn)
    first = factories.reaction(conn, post_id, author, created_at=NOW)
    factories.reaction(conn, post_id, author, created_at=NOW)
    assert post_counts(conn, post_id)["reaction_count"] == 2
    conn.execute("DELETE FROM public.reactions WHERE id = %s", (first,))
    assert post_counts(conn, post_id)["reaction_count"] == 1
    # SnapBet's reaction trigger is not floored: a count out of step with the rows fails.
    conn.execute("UPDATE public.posts SET reaction_count = 0 WHERE id = %s", (post_id,))
    with pytest.raises(psycopg.errors.CheckViolation, match="posts_reaction_count_check"):
        conn.execute("DELETE FROM public.reactions WHERE post_id = %s", (post_id,))


def test_tails_and_fades_count_on_their_pick(conn):
    author = factories.user(conn)
    pick_id = factories.pick(conn, author, commence_time=NOW + DAY, created_at=NOW - DAY, expires_at=NOW + DAY)
    tailer, fader, other = (factories.user(conn) for _ in range(3))
    factories.pick_action(conn, pick_id, tailer, "tail")
    factories.pick_action(conn, pick_id, other, "tail")
    factories.pick_action(conn, pick_id, fader, "fade")
    assert post_counts(conn, pick_id) == {"comment_count": 0, "reaction_count": 0, "tail_count": 2,
                                                "fade_count": 1}
    conn.execute("DELETE FROM public.pick_actions WHERE post_id = %s AND user_id IN (%s, %s)",
                 (pick_id, tailer, fader))
    assert (post_counts(conn, pick_id)["tail_count"], post_counts(conn, pick_id)["fade_count"]) == (1, 0)


# -- stories, chats, referrals, updated_at, bankrolls ----------------------------------------


def test_a_story_view_counts_once(conn):
    author = factories.user(conn)
    story_id = factories.story(conn, author, created_at=NOW - DAY, expires_at=NOW + DAY)
    for _ in range(3):
        factories.story_view(conn, story_id, factories.user(conn))
    assert value(conn, "SELECT view_count FROM public.stories WHERE id = %s", story_id) == 3


def test_a_message_sets_its_chats_last_message_at_even_backwards(conn):
    author, chat_id = factories.user(conn), factories.chat(conn)
    factories.message(conn, chat_id, author, created_at=NOW, expires_at=NOW + DAY)
    assert value(conn, "SELECT last_message_at FROM public.chats WHERE id = %s", chat_id) == NOW
    factories.message(conn, chat_id, author, created_at=NOW - DAY, expires_at=NOW + DAY)
    assert value(conn, "SELECT last_message_at FROM public.chats WHERE id = %s", chat_id) == NOW - DAY


def test_a_referral_counts_for_the_referrer_and_stamps_updated_at(conn):
    referrer = factories.user(conn, created_at=NOW - 10 * DAY, updated_at=NOW - 10 * DAY)
    with conn.transaction():
        factories.referral(conn, referrer, factories.user(conn))
        now = value(conn, "SELECT now()")
    row = conn.execute("SELECT referral_count, updated_at FROM public.users WHERE id = %s", (referrer,)).fetchone()
    assert (row["referral_count"], row["updated_at"]) == (1, now)
    factories.referral(conn, referrer, factories.user(conn))
    assert value(conn, "SELECT referral_count FROM public.users WHERE id = %s", referrer) == 2


@pytest.mark.parametrize("table, key", [("users", "id"), ("bankrolls", "user_id")])
def test_an_update_stamps_updated_at_with_now_whatever_it_sets(conn, table, key):
    user_id = factories.user(conn)
    factories.bankroll(conn, user_id, updated_at=NOW - DAY)
    with conn.transaction():
        conn.execute(f"UPDATE public.{table} SET updated_at = %s WHERE {key} = %s", (NOW - 2 * DAY, user_id))
        now = value(conn, "SELECT now()")
    assert value(conn, f"SELECT updated_at FROM public.{table} WHERE {key} = %s", user_id) == now


def test_season_high_and_low_follow_the_balance_when_it_passes_them(conn):
    user_id = factories.user(conn)
    factories.bankroll(conn, user_id, balance=100000, season_high=120000, season_low=90000)

    def after(sql: str) -> tuple:
        conn.execute(sql.replace("$u", "%s"), (user_id,))
        row = conn.execute("SELECT balance, season_high, season_low FROM public.bankrolls WHERE user_id = %s",
                           (user_id,)).fetchone()
        return row["balance"], row["season_high"], row["season_low"]

    assert after("UPDATE public.bankrolls SET balance = 110000 WHERE user_id = $u") == (110000, 120000, 90000)
    assert after("UPDATE public.bankrolls SET balance = 130000 WHERE user_id = $u") == (130000, 130000, 90000)
    assert after("UPDATE public.bankrolls SET balance = 80000 WHERE user_id = $u") == (80000, 130000, 80000)
    # Not an update OF balance: the trigger does not fire.
    assert after("UPDATE public.bankrolls SET season_low = 95000 WHERE user_id = $u") == (80000, 130000, 95000)
    # A weekly reset sets all three: they stay as set.
    assert after("UPDATE public.bankrolls SET balance = 100000, season_high = 100000, season_low = 100000"
                 " WHERE user_id = $u") == (100000, 100000, 100000)
    # A NULL high or low stays NULL, as in SnapBet.
    assert after("UPDATE public.bankrolls SET season_high = NULL, balance = 150000 WHERE user_id = $u") == (
        150000, None, 100000)


# -- chat members leaving ---------------------------------------------------------------------


def system_messages(conn, chat_id) -> list[dict]:
    return conn.execute("SELECT sender_id, content, message_type, metadata FROM public.messages"
                        " WHERE chat_id = %s ORDER BY created_at, content", (chat_id,)).fetchall()


def roles(conn, chat_id) -> dict:
    return {r["username"]: r["role"] for r in conn.execute(
        "SELECT u.username, m.role::text AS role FROM public.chat_members m JOIN public.users u ON u.id = m.user_id"
        " WHERE m.chat_id = %s", (chat_id,)).fetchall()}


def test_a_member_leaving_a_group_gets_a_system_message_from_the_system_user(conn):
    chat_id, (ann, bob, cat) = group(conn, [("ann", "admin"), ("bob", "member"), ("cat", "member")])
    with conn.transaction():
        conn.execute("DELETE FROM public.chat_members WHERE chat_id = %s AND user_id = %s", (chat_id, cat))
        now = value(conn, "SELECT now()")
    assert system_messages(conn, chat_id) == [{
        "sender_id": uuid.UUID(SYSTEM_USER_ID), "content": "cat left the group", "message_type": "system",
        "metadata": {"action": "member_removed", "target_id": str(cat), "target_username": "cat"},
    }]
    message = conn.execute("SELECT created_at, expires_at FROM public.messages WHERE chat_id = %s",
                           (chat_id,)).fetchone()
    assert (message["created_at"], message["expires_at"]) == (now, now + DAY)
    assert value(conn, "SELECT last_message_at FROM public.chats WHERE id = %s", chat_id) == now
    assert roles(conn, chat_id) == {"ann": "admin", "bob": "member"}


def test_when_the_last_admin_leaves_the_oldest_member_becomes_admin(conn):
    chat_id, (ann, bob, cat) = group(conn, [("ann", "admin"), ("bob", "member"), ("cat", "member")])
    conn.execute("DELETE FROM public.chat_members WHERE chat_id = %s AND user_id = %s", (chat_id, ann))
    assert roles(conn, chat_id) == {"bob": "admin", "cat": "member"}
    assert [m["content"] for m in system_messages(conn, chat_id)] == ["ann left the group"]


def test_an_admin_leaving_while_another_admin_stays_hands_nothing_over(conn):
    chat_id, (ann, bob, cat) = group(conn, [("ann", "admin"), ("bob", "member"), ("cat", "admin")])
    conn.execute("DELETE FROM public.chat_members WHERE chat_id = %s AND user_id = %s", (chat_id, ann))
    assert roles(conn, chat_id) == {"bob": "member", "cat": "admin"}


def test_leaving_a_direct_message_writes_no_system_message(conn):
    chat_id = factories.chat(conn)
    ann, bob = factories.user(conn), factories.user(conn)
    factories.chat_member(conn, chat_id, ann)
    factories.chat_member(conn, chat_id, bob)
    conn.execute("DELETE FROM public.chat_members WHERE chat_id = %s AND user_id = %s", (chat_id, ann))
    assert system_messages(conn, chat_id) == []
    assert value(conn, "SELECT count(*) FROM public.chats WHERE id = %s", chat_id) == 1


@pytest.mark.parametrize("chat_type", ["group", "dm"])
def test_when_the_last_member_leaves_the_chat_is_deleted_after_a_pause(conn, chat_type):
    chat_id = factories.chat(conn, chat_type=chat_type)
    factories.chat_member(conn, chat_id, factories.user(conn, username="zed"), role="admin")
    started = time.monotonic()
    conn.execute("DELETE FROM public.chat_members WHERE chat_id = %s", (chat_id,))
    assert time.monotonic() - started >= 0.1  # SnapBet's pg_sleep(0.1)
    assert value(conn, "SELECT count(*) FROM public.chats WHERE id = %s", chat_id) == 0
    assert value(conn, "SELECT count(*) FROM public.messages WHERE chat_id = %s", chat_id) == 0


def test_deleting_a_chat_cascades_to_members_without_system_messages(conn):
    chat_id, _ = group(conn, [("ann", "admin"), ("bob", "member")])
    conn.execute("DELETE FROM public.chats WHERE id = %s", (chat_id,))
    assert value(conn, "SELECT count(*) FROM public.messages") == 0
    assert value(conn, "SELECT count(*) FROM public.chat_members") == 0


def test_a_member_without_a_username_cannot_leave_a_group(conn):
    """SnapBet's username is set at onboarding and may be NULL: the system message's content
    is then NULL, which messages refuses, so the member's removal fails, as in SnapBet."""
    chat_id, _ = group(conn, [("ann", "admin")])
    nameless = factories.user(conn, username=None)
    factories.chat_member(conn, chat_id, nameless)
    with pytest.raises(psycopg.errors.NotNullViolation, match='"content"'):
        conn.execute("DELETE FROM public.chat_members WHERE user_id = %s", (nameless,))


# -- SnapBet's constraints --------------------------------------------------------------------


@pytest.mark.parametrize("post_type, with_bet, with_settled_bet, allowed", [
    ("content", False, False, True),
    ("content", True, False, False),
    ("content", False, True, False),
    ("pick", True, False, True),
    ("pick", False, False, False),
    ("pick", False, True, False),
    ("outcome", False, True, True),
    ("outcome", True, True, True),
    ("outcome", False, False, False),
])
def test_posts_carry_snapbets_bet_requirement(conn, post_type, with_bet, with_settled_bet, allowed):
    author = factories.user(conn)
    game_id = factories.game(conn, commence_time=NOW - DAY, status="completed", home_score=1, away_score=0)
    bet_id = factories.settled_bet(conn, author, game_id, created_at=NOW - 2 * DAY, status="won")
    values = {"post_type": post_type, "bet_id": bet_id if with_bet else None,
              "settled_bet_id": bet_id if with_settled_bet else None}
    if allowed:
        live_post(conn, author, **values)
    else:
        with pytest.raises(psycopg.errors.CheckViolation, match="posts_bet_requirement"):
            live_post(conn, author, **values)


def test_deleting_a_picks_bet_fails_despite_on_delete_set_null(conn):
    author = factories.user(conn)
    pick_id = factories.pick(conn, author, commence_time=NOW + DAY, created_at=NOW - DAY, expires_at=NOW + DAY)
    bet_id = value(conn, "SELECT bet_id FROM public.posts WHERE id = %s", pick_id)
    with pytest.raises(psycopg.errors.CheckViolation, match="posts_bet_requirement"):
        conn.execute("DELETE FROM public.bets WHERE id = %s", (bet_id,))


@pytest.mark.parametrize("statement, constraint", [
    ("INSERT INTO public.chats (chat_type) VALUES ('group')", "chats_name_check"),
    ("INSERT INTO public.chats (chat_type, name) VALUES ('dm', 'x')", "chats_name_check"),
    ("INSERT INTO public.chats (chat_type, name) VALUES ('group', repeat('x', 51))", "chats_name_check"),
    ("UPDATE public.stories SET view_count = -1", "stories_view_count_check"),
    ("UPDATE public.messages SET message_type = 'shout'", "messages_message_type_check"),
    ("UPDATE public.messages SET content = repeat('x', 1001)", "messages_content_check"),
])
def test_snapbets_checks_refuse_what_snapbet_refuses(conn, statement, constraint):
    author, chat_id = factories.user(conn), factories.chat(conn)
    factories.story(conn, author, created_at=NOW - DAY, expires_at=NOW + DAY)
    factories.message(conn, chat_id, author, created_at=NOW, expires_at=NOW + DAY)
    with pytest.raises(psycopg.errors.CheckViolation, match=constraint):
        conn.execute(statement)


def test_snapbets_defaults(conn):
    """What a row gets when the app leaves a column out, as in SnapBet."""
    user_id = factories.user(conn)
    bankroll = conn.execute(
        "INSERT INTO public.bankrolls (user_id) VALUES (%s) RETURNING balance, season_high, season_low,"
        " weekly_deposit, last_reset = now() AS reset_now, stats_metadata", (user_id,)).fetchone()
    assert bankroll == {"balance": 100000, "season_high": 100000, "season_low": 100000, "weekly_deposit": 100000,
                        "reset_now": True, "stats_metadata": {}}
    chat_id = factories.chat(conn)
    assert value(conn, "SELECT settings FROM public.chats WHERE id = %s", chat_id) == {}
    message = conn.execute(
        "INSERT INTO public.messages (chat_id, sender_id, content) VALUES (%s, %s, 'hi')"
        " RETURNING message_type, metadata, expires_at - created_at AS lives", (chat_id, user_id)).fetchone()
    assert message == {"message_type": "text", "metadata": {}, "lives": DAY}
    factories.chat_member(conn, chat_id, user_id)
    assert roles(conn, chat_id) == {value(conn, "SELECT username FROM public.users WHERE id = %s", user_id): "member"}
    with pytest.raises(psycopg.errors.NotNullViolation, match='"post_type"'):
        conn.execute("INSERT INTO public.posts (user_id, media_url, expires_at) VALUES (%s, 'x', %s)",
                     (user_id, NOW + DAY))
