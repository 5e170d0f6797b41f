"""A dry run predicts the real run (docs/rules.md: The runner), for random rows around a fixed `now`:

1. the dry run's JSON equals the real run's, with and without a limit, and a limited run does
   min(limit, everything) items;
2. the dry run changes no row;
3. the real runner (CALL jobs.run_job, in batches of 3) records what the dry run predicted,
   after which there is nothing left to do; for reset_bankrolls, conservation (docs/rules.md: Money) holds.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from tests.support import call_job

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)  # a Monday
MONDAY = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)  # its week's start
PREV_MONDAY = MONDAY - timedelta(days=7)
US = timedelta(microseconds=1)
DAY = timedelta(days=1)
GRACE = timedelta(hours=3)
HARD = timedelta(days=30)
BATCH = 3

EXPIRE_TABLES = ("public.posts", "public.comments", "public.reactions", "public.pick_actions", "public.stories",
                 "public.messages")
RESET_TABLES = ("public.bankrolls", "public.bets", "public.notifications")

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def around(*boundaries: timedelta, spread: timedelta) -> st.SearchStrategy[timedelta]:
    """An offset: a boundary, 1 µs either side of one, or anywhere within ±spread."""
    exact = [b + d for b in boundaries for d in (-US, timedelta(0), US)]
    us = int(spread / US)
    return st.one_of(st.sampled_from(exact), st.integers(-us, us).map(lambda n: n * US))


# deleted_at relative to now: live, the 30-day boundary, just now, or any time in the last 40 days.
DELETED = st.one_of(
    st.none(),
    st.sampled_from([-HARD - US, -HARD, -HARD + US, timedelta(0)]),
    st.integers(-int(40 * DAY / US), 0).map(lambda n: n * US),
)

POST = st.fixed_dictionaries({
    "kind": st.sampled_from(["content", "outcome", "pick", "pick_without_game"]),
    "expires": around(timedelta(0), spread=2 * DAY),
    "commence": around(-GRACE, spread=6 * timedelta(hours=1)),  # relative to now
    "deleted": DELETED,
    "comments": st.lists(DELETED, max_size=3),
    "reactions": st.integers(0, 2),
})
EXPIRING = st.fixed_dictionaries({"expires": around(timedelta(0), spread=2 * DAY), "deleted": DELETED})


def reset_tables(conn) -> None:
    conn.execute("TRUNCATE public.users, public.games, public.chats, jobs.job_executions CASCADE")
    conn.execute("UPDATE jobs.job_registry SET batch_size = %s, min_batch_size = %s, max_batch_size = %s",
                 (BATCH, BATCH, BATCH))


def check_dry_run_predicts_the_real_run(conn, job: str, now: datetime, limit: int, tables: tuple[str, ...]) -> dict:
    before = factories.digest(conn, *tables)
    full = call_job(conn, job, now, True, None)
    limited = call_job(conn, job, now, True, limit)
    assert factories.digest(conn, *tables) == before, "a dry run changed rows"
    assert limited["affected"] == min(limit, full["affected"])

    with conn.transaction(force_rollback=True):
        assert call_job(conn, job, now, False, limit) == limited
    with conn.transaction(force_rollback=True):
        assert call_job(conn, job, now, False, None) == full
    assert factories.digest(conn, *tables) == before

    conn.execute("CALL jobs.run_job(%s, %s::timestamptz)", (job, now))
    row = conn.execute(
        "SELECT * FROM jobs.job_executions WHERE job_name = %s ORDER BY id DESC LIMIT 1", (job,)
    ).fetchone()
    assert (row["status"], row["affected_count"]) == ("succeeded", full["affected"])
    assert row["details"] == full["details"]
    # full batches, then one that finds fewer than it asks for (possibly none): the end
    assert row["batches"] == full["affected"] // BATCH + 1
    assert call_job(conn, job, now, True, None)["affected"] == 0, "the runner left work undone"
    return full


# --- expire_content -------------------------------------------------------------------------

@PROPERTY
@given(posts=st.lists(POST, min_size=3, max_size=10), stories=st.lists(EXPIRING, min_size=1, max_size=5),
       messages=st.lists(EXPIRING, min_size=1, max_size=5), limit=st.integers(0, 15))
def test_expire_content_dry_run_predicts_the_real_run(conn, posts, stories, messages, limit):
    reset_tables(conn)
    conn.execute("ALTER TABLE public.posts DROP CONSTRAINT IF EXISTS posts_bet_requirement")
    author, chat_id = factories.user(conn), factories.chat(conn)

    def at(offset):
        return None if offset is None else NOW + offset

    for p in posts:
        expires = NOW + p["expires"]
        common = {"created_at": expires - DAY, "expires_at": expires, "deleted_at": at(p["deleted"])}
        if p["kind"] == "pick":
            post_id = factories.pick(conn, author, commence_time=NOW + p["commence"], **common)
        elif p["kind"] == "pick_without_game":
            post_id = factories.post(conn, author, post_type="pick", **common)
        elif p["kind"] == "outcome":
            post_id = factories.outcome(conn, author, **common)
        else:
            post_id = factories.post(conn, author, **common)
        for deleted in p["comments"]:
            factories.comment(conn, post_id, author, created_at=NOW - 41 * DAY, deleted_at=at(deleted))
        for _ in range(p["reactions"]):
            factories.reaction(conn, post_id, author, created_at=NOW - 41 * DAY)
    for s in stories:
        factories.story(conn, author, created_at=NOW + s["expires"] - DAY, expires_at=NOW + s["expires"],
                        deleted_at=at(s["deleted"]))
    for m in messages:
        factories.message(conn, chat_id, author, created_at=NOW + m["expires"] - DAY, expires_at=NOW + m["expires"],
                          deleted_at=at(m["deleted"]))

    full = check_dry_run_predicts_the_real_run(conn, "expire_content", NOW, limit, EXPIRE_TABLES)
    assert full["affected"] == sum(full["details"].values())


# --- reset_bankrolls ------------------------------------------------------------------------

BET = st.fixed_dictionaries({
    "status": st.sampled_from(["pending", "won", "lost", "push", "cancelled"]),
    "stake": st.integers(500, 5000),
    "odds": st.sampled_from([-110, -200, 150, 300]),
    # placed this long before now, or exactly at the last reset
    "age": st.one_of(st.just("at_last_reset"), st.integers(1, int(21 * DAY / US)).map(lambda n: n * US)),
})
BANKROLL = st.fixed_dictionaries({
    "referral_count": st.one_of(st.none(), st.integers(0, 3)),
    "weekly_deposit": st.sampled_from([100000, 110000, 120000]),
    # last_reset relative to this week's Monday: around it, around last week's, or anywhere in three weeks
    "last_reset": st.one_of(st.none(), around(timedelta(0), -7 * DAY, spread=14 * DAY)),
    "bets": st.lists(BET, max_size=5),
})


@PROPERTY
@given(now=st.sampled_from([MONDAY, NOW, MONDAY - US]), bankrolls=st.lists(BANKROLL, min_size=2, max_size=9),
       limit=st.integers(0, 8))
def test_reset_bankrolls_dry_run_predicts_the_real_run(conn, now, bankrolls, limit):
    reset_tables(conn)
    game_id = factories.game(conn, commence_time=PREV_MONDAY)
    for b in bankrolls:
        user_id = factories.user(conn, referral_count=b["referral_count"])
        last_reset = None if b["last_reset"] is None else min(MONDAY + b["last_reset"], now)
        counted = []  # (stake, money back) of the bets placed since the last reset
        for spec in b["bets"]:
            if spec["age"] == "at_last_reset" and last_reset is not None:
                created = min(last_reset, now - US)
            else:
                created = now - (spec["age"] if spec["age"] != "at_last_reset" else DAY)
            if spec["status"] == "pending":
                factories.bet(conn, user_id, game_id, created_at=created, stake=spec["stake"], odds=spec["odds"])
                back = 0
            else:
                bet_id = factories.settled_bet(conn, user_id, game_id, created_at=created, status=spec["status"],
                                               stake=spec["stake"], odds=spec["odds"])
                back = conn.execute("SELECT stake + actual_win AS back FROM public.bets WHERE id = %s",
                                    (bet_id,)).fetchone()["back"]
            if last_reset is None or created >= last_reset:
                counted.append((spec["stake"], back))
        balance = b["weekly_deposit"] - sum(s for s, _ in counted) + sum(back for _, back in counted)
        factories.bankroll(conn, user_id, last_reset=last_reset, weekly_deposit=b["weekly_deposit"], balance=balance)
    assert factories.conservation_violations(conn) == []

    full = check_dry_run_predicts_the_real_run(conn, "reset_bankrolls", now, limit, RESET_TABLES)

    assert full["details"]["users"] == full["details"]["notifications"] == full["affected"]
    assert factories.conservation_violations(conn) == []
    assert conn.execute(
        "SELECT count(*) AS n FROM public.bankrolls WHERE last_reset IS NULL OR last_reset < jobs.week_start(%s, 'UTC')",
        (now,),
    ).fetchone()["n"] == 0

