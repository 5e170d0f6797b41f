"""expire_content (docs/rules.md: The jobs, Boundaries): every rule at its boundary, called
directly with a fixed `now`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tests import factories
from tests.support import call_job, past_a_lock, run_in_batches

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)  # a Monday
US = timedelta(microseconds=1)
DAY = timedelta(days=1)
GRACE = timedelta(hours=3)  # pick_grace
HARD = timedelta(days=30)  # hard_delete_after
DETAIL_KEYS = {"posts", "picks", "stories", "messages", "comments", "hard_deleted"}
TOUCHED = ("public.posts", "public.comments", "public.reactions", "public.pick_actions", "public.stories",
           "public.messages")


def run(conn, now: datetime = NOW, *, dry_run: bool = False, limit: int | None = None) -> dict:
    return call_job(conn, "expire_content", now, dry_run, limit)


def deleted_at(conn, table: str, row_id) -> datetime | None:
    row = conn.execute(f"SELECT deleted_at FROM public.{table} WHERE id = %s", (row_id,)).fetchone()
    assert row is not None, f"{table} {row_id} was hard-deleted"
    return row["deleted_at"]


def exists(conn, table: str, row_id) -> bool:
    return conn.execute(f"SELECT count(*) AS n FROM public.{table} WHERE id = %s", (row_id,)).fetchone()["n"] == 1


def live_post(conn, author, *, post_type: str = "content", expires_at: datetime, deleted_at=None):
    """A content or outcome post created a day before it expires."""
    make = factories.outcome if post_type == "outcome" else factories.post
    return make(conn, author, created_at=expires_at - DAY, expires_at=expires_at, deleted_at=deleted_at)


def _row(conn, table: str, *, author, chat_id, expires_at: datetime, deleted_at=None):
    """A story or message expiring at `expires_at`."""
    if table == "stories":
        return factories.story(conn, author, created_at=expires_at - DAY, expires_at=expires_at,
                               deleted_at=deleted_at)
    return factories.message(conn, chat_id, author, created_at=expires_at - DAY, expires_at=expires_at,
                             deleted_at=deleted_at)


# --- content and outcome posts --------------------------------------------------------------

@pytest.mark.parametrize("post_type", ["content", "outcome"])
def test_post_expiring_exactly_now_is_soft_deleted_at_now(conn, post_type):
    post_id = live_post(conn, factories.user(conn), post_type=post_type, expires_at=NOW)
    result = run(conn)
    assert deleted_at(conn, "posts", post_id) == NOW
    assert result["details"]["posts"] == 1 and result["affected"] == 1


@pytest.mark.parametrize("post_type", ["content", "outcome"])
def test_post_expiring_1us_after_now_is_kept(conn, post_type):
    post_id = live_post(conn, factories.user(conn), post_type=post_type, expires_at=NOW + US)
    result = run(conn)
    assert deleted_at(conn, "posts", post_id) is None
    assert result["affected"] == 0


# --- picks: the game's start plus the 3 h grace, not the post's expiry ------------------------

@pytest.mark.parametrize("started_ago", [timedelta(hours=2, minutes=59), GRACE - US], ids=["2h59m", "3h-1us"])
def test_pick_whose_game_started_less_than_3h_ago_is_kept_although_the_post_expired(conn, started_ago):
    pick_id = factories.pick(conn, factories.user(conn), commence_time=NOW - started_ago,
                             created_at=NOW - 2 * DAY, expires_at=NOW - DAY)
    result = run(conn)
    assert deleted_at(conn, "posts", pick_id) is None
    assert result["details"]["picks"] == 0 and result["affected"] == 0


def test_pick_whose_game_started_exactly_3h_ago_is_soft_deleted_although_the_post_has_not_expired(conn):
    pick_id = factories.pick(conn, factories.user(conn), commence_time=NOW - GRACE,
                             created_at=NOW - DAY, expires_at=NOW + DAY)
    result = run(conn)
    assert deleted_at(conn, "posts", pick_id) == NOW
    assert result["details"]["picks"] == 1 and result["details"]["posts"] == 0


def test_pick_without_a_game_follows_its_expiry(conn):
    conn.execute("ALTER TABLE public.posts DROP CONSTRAINT posts_bet_requirement")
    author = factories.user(conn)
    expired = factories.post(conn, author, post_type="pick", created_at=NOW - DAY, expires_at=NOW)
    not_yet = factories.post(conn, author, post_type="pick", created_at=NOW - DAY, expires_at=NOW + US)
    result = run(conn)
    assert deleted_at(conn, "posts", expired) == NOW
    assert deleted_at(conn, "posts", not_yet) is None
    assert result["details"]["picks"] == 1 and result["details"]["posts"] == 0


# --- picks found from what can be due since the previous complete run (the mark) ----------

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def state(conn) -> dict:
    """The job's row of jobs.job_state ({} without one)."""
    row = conn.execute("SELECT state FROM jobs.job_state WHERE job_name = 'expire_content'").fetchone()
    return row["state"] if row else {}


def mark(conn):
    return state(conn).get("checked_through")


def test_a_complete_run_marks_its_moment_and_a_dry_run_or_a_limited_one_does_not(conn):
    factories.expired_posts(conn, NOW, 2)
    run(conn, NOW - HOUR, dry_run=True)
    assert mark(conn) is None
    run(conn, NOW - HOUR, limit=1)  # stopped at its limit: work is left
    assert mark(conn) is None
    run(conn, NOW - HOUR)
    assert mark(conn) is not None
    run(conn, NOW)
    assert datetime.fromisoformat(mark(conn)) == NOW


def test_a_first_run_finds_a_pick_of_a_game_that_started_long_ago(conn):
    pick_id = factories.pick(conn, factories.user(conn), commence_time=NOW - 20 * DAY, created_at=NOW - 21 * DAY,
                             expires_at=NOW + DAY)
    result = run(conn)
    assert deleted_at(conn, "posts", pick_id) == NOW
    assert result["details"]["picks"] == 1


def test_a_pick_of_a_game_that_passed_its_grace_since_the_previous_run_is_soft_deleted(conn):
    author = factories.user(conn)
    run(conn, NOW - HOUR)  # the previous hourly run: nothing due then
    pick_id = factories.pick(conn, author, commence_time=NOW - GRACE - 30 * timedelta(minutes=1),
                             created_at=NOW - DAY, expires_at=NOW - GRACE)
    kept = factories.pick(conn, author, commence_time=NOW - GRACE + US, created_at=NOW - DAY, expires_at=NOW - GRACE)
    result = run(conn)
    assert deleted_at(conn, "posts", pick_id) == NOW and deleted_at(conn, "posts", kept) is None
    assert result["details"]["picks"] == 1


def test_a_pick_created_after_its_game_was_walked_is_soft_deleted(conn):
    """Late: the game started days ago and earlier runs passed it; the pick is shared now."""
    author = factories.user(conn)
    game_id = factories.game(conn, commence_time=NOW - 3 * DAY)
    bet_id = factories.bet(conn, author, game_id, created_at=NOW - 4 * DAY)
    run(conn, NOW - 2 * DAY)
    run(conn, NOW - HOUR)
    assert mark(conn) is not None
    late = factories.post(conn, author, post_type="pick", bet_id=bet_id, created_at=NOW - 10 * timedelta(minutes=1),
                          expires_at=NOW + DAY)
    assert run(conn, dry_run=True)["details"]["picks"] == 1
    result = run(conn)
    assert deleted_at(conn, "posts", late) == NOW
    assert result["details"]["picks"] == 1


@pytest.mark.parametrize("savepoint", [False, True], ids=["top-level", "in-a-savepoint"])
@pytest.mark.parametrize("kind", ["late pick", "comment on a deleted post"])
def test_what_a_transaction_open_during_the_previous_run_writes_is_found_by_the_next(db, conn, kind, savepoint):
    """A run looks again only at what the previous complete run could not see: rows stamped
    since the oldest transaction then open began, and not written before every one then open.
    The row here is stamped by its writer's clock (its created_at is its transaction's start),
    before that run's moment, and committed after it; written in a savepoint too (a
    subtransaction, whose number no snapshot lists). On the server's clock: that is what a
    transaction's start is measured by."""
    clock = conn.execute("SELECT now() AS t").fetchone()["t"]
    author = factories.user(conn)
    game_id = factories.game(conn, commence_time=clock - 3 * DAY)
    bet_id = factories.bet(conn, author, game_id, created_at=clock - 4 * DAY)
    deleted = live_post(conn, author, expires_at=clock + DAY, deleted_at=clock - 2 * DAY)  # by the app
    run(conn, clock - 2 * DAY)
    with psycopg.connect(db, row_factory=dict_row) as other:
        began = other.execute("SELECT now() AS t, pg_current_xact_id()").fetchone()["t"]
        if savepoint:
            other.execute("SAVEPOINT s")
        if kind == "late pick":
            row = factories.post(other, author, post_type="pick", bet_id=bet_id, created_at=began,
                                 expires_at=clock + DAY)
        else:
            row = factories.comment(other, deleted, author, created_at=began)
        if savepoint:
            other.execute("RELEASE SAVEPOINT s")
        moment = conn.execute("SELECT clock_timestamp() AS t").fetchone()["t"]
        run(conn, moment)  # complete, while the row is not yet committed
        recorded = state(conn)
        assert datetime.fromisoformat(mark(conn)) == moment > began
        assert "horizon" in recorded and datetime.fromisoformat(recorded["quiet"]) == began
        other.commit()
    now = moment + timedelta(minutes=1)
    assert run(conn, now, dry_run=True)["details"]["picks" if kind == "late pick" else "comments"] == 1
    run(conn, now)
    assert deleted_at(conn, "posts" if kind == "late pick" else "comments", row) == now


def test_a_complete_run_records_its_own_horizon_and_one_behind_the_mark_keeps_the_marks(conn):
    """A run sets its horizon aside as it begins and records it with its mark if it completes;
    a run stopped by its limit records nothing, and one at an earlier now than the mark (which
    saw what that run's rules did not need) leaves the mark's horizon."""
    factories.expired_posts(conn, NOW - DAY, 2)
    run(conn, NOW - 2 * DAY, limit=0)  # stopped: its pending horizon stays pending
    assert "horizon" not in state(conn) and datetime.fromisoformat(state(conn)["pending"]["at"]) == NOW - 2 * DAY
    run(conn, NOW)
    first = state(conn)
    assert "pending" not in first and first["horizon"] > 0 and "quiet" in first
    conn.execute("SELECT pg_current_xact_id()")  # transactions go by
    run(conn, NOW - DAY)  # behind the mark
    behind = state(conn)
    assert (behind["horizon"], behind["quiet"], behind["checked_through"]) == \
        (first["horizon"], first["quiet"], first["checked_through"]) and "pending" not in behind
    run(conn, NOW)
    assert state(conn)["horizon"] > first["horizon"]


def test_a_run_beside_another_at_the_same_now_records_the_older_horizon_of_the_two(conn):
    """The other's pending horizon is still there as this run begins (a direct call beside a
    scheduled run): whichever completes records what both could see."""
    run(conn, NOW - HOUR)
    started = conn.execute("SELECT pg_postmaster_start_time() AS t").fetchone()["t"]
    # the same moments, written in another offset than the server writes them: compared as times
    east = timezone(timedelta(hours=5))
    older = {"at": NOW.astimezone(east).isoformat(), "horizon": 3, "started": started.astimezone(east).isoformat(),
             "quiet": (NOW - DAY).isoformat()}
    conn.execute("UPDATE jobs.job_state SET state = state || jsonb_build_object('pending', %s::jsonb)"
                 " WHERE job_name = 'expire_content'", (Jsonb(older),))
    run(conn)
    recorded = state(conn)
    assert (recorded["horizon"], datetime.fromisoformat(recorded["quiet"])) == (3, NOW - DAY)
    older["at"] = (NOW - US).isoformat()  # another now's: replaced
    conn.execute("UPDATE jobs.job_state SET state = state || jsonb_build_object('pending', %s::jsonb)"
                 " WHERE job_name = 'expire_content'", (Jsonb(older),))
    run(conn)
    assert state(conn)["horizon"] > 3 and datetime.fromisoformat(state(conn)["quiet"]) > NOW


def test_a_real_run_given_a_later_now_does_not_hide_what_becomes_due_before_it(conn):
    """The mark is never later than the clock: after a run at a month from now, a pick shared
    now on a game that started hours ago is still found by the run at now."""
    clock = conn.execute("SELECT now() AS t").fetchone()["t"]
    author = factories.user(conn)
    game_id = factories.game(conn, commence_time=clock - 5 * HOUR)
    bet_id = factories.bet(conn, author, game_id, created_at=clock - 6 * HOUR)
    run(conn, clock - 2 * HOUR)
    run(conn, clock + 30 * DAY)
    assert datetime.fromisoformat(mark(conn)) <= clock + timedelta(minutes=5)
    shared = conn.execute("SELECT now() AS t").fetchone()["t"]  # its writer's clock
    late = factories.post(conn, author, post_type="pick", bet_id=bet_id, created_at=shared, expires_at=clock + DAY)
    now = clock + timedelta(minutes=1)
    assert run(conn, now)["details"]["picks"] == 1
    assert deleted_at(conn, "posts", late) == now


def test_a_pick_without_a_game_is_soft_deleted_by_its_expiry_after_earlier_runs(conn):
    conn.execute("ALTER TABLE public.posts DROP CONSTRAINT posts_bet_requirement")
    author = factories.user(conn)
    lost = factories.post(conn, author, post_type="pick", created_at=NOW - 20 * DAY, expires_at=NOW - 10 * DAY)
    factories.post(conn, author, post_type="pick", created_at=NOW - DAY, expires_at=NOW + US)  # kept
    conn.execute("INSERT INTO jobs.job_state (job_name, state) VALUES ('expire_content', %s)",
                 ('{"checked_through": "%s"}' % (NOW - HOUR).isoformat(),))
    result = run(conn)
    assert deleted_at(conn, "posts", lost) == NOW
    assert result["details"]["picks"] == 1


def test_comments_of_a_post_deleted_by_an_earlier_run_are_soft_deleted_after_it(conn):
    """A comment that reached a post after the run that deleted it, and a post the app
    deleted since the previous run."""
    author = factories.user(conn)
    post_id = live_post(conn, author, expires_at=NOW - 2 * HOUR)
    run(conn, NOW - HOUR)
    assert deleted_at(conn, "posts", post_id) == NOW - HOUR and mark(conn) is not None
    late = factories.comment(conn, post_id, author, created_at=NOW - 30 * timedelta(minutes=1))
    by_app = live_post(conn, author, expires_at=NOW + DAY, deleted_at=NOW - 20 * timedelta(minutes=1))
    on_app_deleted = factories.comment(conn, by_app, author, created_at=NOW - DAY)
    assert run(conn, dry_run=True)["details"]["comments"] == 2
    result = run(conn)
    assert deleted_at(conn, "comments", late) == NOW and deleted_at(conn, "comments", on_app_deleted) == NOW
    assert result["details"] == {**dict.fromkeys(DETAIL_KEYS, 0), "comments": 2}


def test_a_dry_run_counts_what_the_real_run_does_on_every_path(conn):
    conn.execute("ALTER TABLE public.posts DROP CONSTRAINT posts_bet_requirement")
    author, chat_id = factories.user(conn), factories.chat(conn)
    old_game = factories.game(conn, commence_time=NOW - 2 * DAY)
    old_bet = factories.bet(conn, author, old_game, created_at=NOW - 3 * DAY)
    run(conn, NOW - HOUR)
    expired = live_post(conn, author, expires_at=NOW - 10 * timedelta(minutes=1))
    due_pick = factories.pick(conn, author, commence_time=NOW - GRACE - HOUR, created_at=NOW - DAY,
                              expires_at=NOW - GRACE - HOUR)
    late = factories.post(conn, author, post_type="pick", bet_id=old_bet, created_at=NOW - 5 * timedelta(minutes=1),
                          expires_at=NOW + DAY)
    lost = factories.post(conn, author, post_type="pick", created_at=NOW - DAY, expires_at=NOW - US)
    by_app = live_post(conn, author, expires_at=NOW + DAY, deleted_at=NOW - 5 * timedelta(minutes=1))
    for post_id in (expired, due_pick, late, lost, by_app):
        factories.comment(conn, post_id, author, created_at=NOW - 2 * timedelta(minutes=1))
    factories.pick(conn, author, commence_time=NOW + DAY, created_at=NOW - HOUR, expires_at=NOW + DAY)  # kept
    _row(conn, "stories", author=author, chat_id=chat_id, expires_at=NOW - HOUR)
    predicted = run(conn, dry_run=True)
    result = run(conn)
    assert predicted == result
    assert result["details"] == {"posts": 1, "picks": 3, "stories": 1, "messages": 0, "comments": 5,
                                 "hard_deleted": 0}


def test_a_run_in_batches_of_two_deletes_what_one_call_counts_and_then_marks(conn):
    """Each picks and comments phase continues after its last row from batch to batch."""
    author = factories.user(conn)
    run(conn, NOW - HOUR)
    old_game = factories.game(conn, commence_time=NOW - 2 * DAY)
    old_bet = factories.bet(conn, author, old_game, created_at=NOW - 3 * DAY)
    posts = [live_post(conn, author, expires_at=NOW - i * timedelta(minutes=1)) for i in range(3)]
    posts += [factories.pick(conn, author, commence_time=NOW - GRACE - i * timedelta(minutes=1), created_at=NOW - DAY,
                             expires_at=NOW + DAY) for i in range(3)]
    posts += [factories.post(conn, author, post_type="pick", bet_id=old_bet, created_at=NOW - i * timedelta(minutes=1),
                             expires_at=NOW + DAY) for i in range(1, 4)]
    posts += [live_post(conn, author, expires_at=NOW + DAY, deleted_at=NOW - i * timedelta(minutes=1))
              for i in range(1, 4)]
    for post_id in posts:
        for _ in range(2):
            factories.comment(conn, post_id, author, created_at=NOW - 2 * HOUR)
    predicted = run(conn, dry_run=True)
    assert predicted["details"] == {**dict.fromkeys(DETAIL_KEYS, 0), "posts": 3, "picks": 6, "comments": 24}
    totals, after, batches = dict.fromkeys(DETAIL_KEYS, 0), None, 0
    while True:
        result = call_job(conn, "expire_content", NOW, False, 2, after)
        batches += 1
        totals = {k: totals[k] + v for k, v in result["details"].items()}
        after = result["next"]
        if after is None:
            break
        assert mark(conn) != NOW.isoformat()
    assert totals == predicted["details"] and batches >= 16
    assert datetime.fromisoformat(mark(conn)) == NOW
    assert run(conn)["affected"] == 0


# --- a backlog: one pass over the heap ------------------------------------------------------

def bulk_posts(conn, author, expiries: list[datetime], deleted_at: datetime | None = None) -> list:
    """Content posts in this physical order, one per expiry."""
    return [r["id"] for r in conn.execute(
        "INSERT INTO public.posts (user_id, post_type, media_url, created_at, expires_at, deleted_at)"
        " SELECT %s, 'content', 'https://cdn.test/bulk/' || o, e - interval '1 day', e, %s"
        " FROM unnest(%s::timestamptz[]) WITH ORDINALITY AS x(e, o) ORDER BY o RETURNING id",
        (author, deleted_at, expiries)).fetchall()]


def batches(conn, limit: int, *, dry_run: bool = False, after: dict | None = None) -> tuple[list[dict], dict]:
    """A run by hand in batches of `limit` (from `after`): each batch's result, and the details summed."""
    results = []
    while True:
        results.append(call_job(conn, "expire_content", NOW, dry_run, limit, after))
        after = results[-1]["next"]
        if after is None:
            return results, {k: sum(r["details"][k] for r in results) for k in DETAIL_KEYS}


def test_a_batch_the_posts_fill_does_not_look_at_the_stories(conn):
    """1,200 stories due (enough for a pass over the heap to be weighed) behind 150 content
    posts, in batches of 100: the first batch's posts leave the stories phases no room, so it
    neither counts the due stories nor samples the table (each such batch used to); the
    second, with room, does, and chooses the pass."""
    author = factories.user(conn)
    for i in range(150):
        factories.post(conn, author, created_at=NOW - timedelta(days=1), expires_at=NOW - timedelta(minutes=i + 1))
    conn.execute("""
        INSERT INTO public.stories (user_id, media_url, created_at, expires_at)
        SELECT %(u)s, 'https://x/s' || g, %(now)s - interval '1 day', %(now)s - g * interval '1 second'
          FROM generate_series(1, 1200) AS g
    """, {"u": author, "now": NOW})
    scans = ("SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS n FROM pg_stat_user_tables"
             " WHERE relid = 'public.stories'::regclass")
    conn.execute("SELECT pg_stat_reset()")
    first = run(conn, limit=100)
    conn.execute("SELECT pg_stat_force_next_flush()")
    assert first["details"]["posts"] == 100 and first["details"]["stories"] == 0
    assert conn.execute(scans).fetchone()["n"] == 0
    second = call_job(conn, "expire_content", NOW, False, 100, first["next"])
    conn.execute("SELECT pg_stat_force_next_flush()")
    assert second["details"]["posts"] == 50 and second["details"]["stories"] == 50
    assert conn.execute(scans).fetchone()["n"] >= 1 and "stories:heap" in second["next"]  # all of them are due


def test_a_backlog_is_soft_deleted_in_one_pass_over_the_heap_batch_by_batch(conn):
    author = factories.user(conn)
    # 3,000 due posts, the latest expiries first in the heap, and every fifth post still live.
    expiries = [NOW - timedelta(minutes=i) if i % 5 else NOW + timedelta(minutes=i) for i in range(1, 3751)]
    ids = bulk_posts(conn, author, expiries)
    due = [i for i, e in zip(ids, expiries) if e <= NOW]
    assert len(due) == 3000
    before = factories.digest(conn, *TOUCHED)
    dry, predicted = batches(conn, 700, dry_run=True)
    assert factories.digest(conn, *TOUCHED) == before
    assert "posts:heap" in dry[0]["next"]  # the pass was chosen
    assert predicted == {**dict.fromkeys(DETAIL_KEYS, 0), "posts": 3000}
    first = run(conn, limit=700)
    assert first["details"]["posts"] == 700 and "posts:heap" in first["next"]
    # The heap's first 700 due rows, not the 700 earliest expiries.
    written = {r["id"] for r in conn.execute("SELECT id FROM public.posts WHERE deleted_at = %s", (NOW,)).fetchall()}
    assert written == set(due[:700])
    rest, totals = batches(conn, 700, after=first["next"])
    real = [first, *rest]
    assert [r["details"]["posts"] for r in real] == [r["details"]["posts"] for r in dry]
    assert sum(r["details"]["posts"] for r in real) == 3000 and len(real) >= 5
    written = {r["id"] for r in conn.execute("SELECT id FROM public.posts WHERE deleted_at = %s", (NOW,)).fetchall()}
    assert written == set(due)
    assert run(conn)["affected"] == 0


def test_the_comments_of_a_backlog_all_go_in_the_run_that_deletes_it(conn):
    """A pass over the heap can stop at its pages' end short of its limit: the comments wait
    until every post of the run is deleted, so that none is passed over."""
    author = factories.user(conn)
    expiries = [NOW - timedelta(minutes=i) if i % 5 else NOW + timedelta(minutes=i) for i in range(1, 3751)]
    bulk_posts(conn, author, expiries)
    conn.execute("INSERT INTO public.comments (post_id, user_id, content, created_at)"
                  " SELECT p.id, %s, 'nice', %s FROM public.posts AS p", (author, NOW - 2 * DAY))
    results, totals = batches(conn, 700)
    assert "posts:heap" in results[0]["next"]
    assert (totals["posts"], totals["comments"]) == (3000, 3000)
    left = conn.execute("SELECT count(*) AS n FROM public.comments AS c JOIN public.posts AS p ON p.id = c.post_id"
                        " WHERE c.deleted_at IS NULL AND p.deleted_at IS NOT NULL").fetchone()["n"]
    assert left == 0


def test_a_backlog_of_rows_soft_deleted_long_ago_is_hard_deleted_in_one_pass(conn):
    author = factories.user(conn)
    old = bulk_posts(conn, author, [NOW - 40 * DAY] * 1200, deleted_at=NOW - 31 * DAY)
    recent = bulk_posts(conn, author, [NOW - 40 * DAY] * 300, deleted_at=NOW - 29 * DAY)
    for post_id in old[:5] + recent[:5]:
        factories.comment(conn, post_id, author, created_at=NOW - 35 * DAY, deleted_at=NOW - 29 * DAY)
    dry, predicted = batches(conn, 500, dry_run=True)
    assert "hard_deleted posts:heap" in dry[0]["next"]
    assert predicted == {**dict.fromkeys(DETAIL_KEYS, 0), "hard_deleted": 1200}
    real, totals = batches(conn, 500)
    assert totals == predicted and len(real) == len(dry) >= 3
    left = {r["id"] for r in conn.execute("SELECT id FROM public.posts WHERE user_id = %s", (author,)).fetchall()}
    assert left == set(recent)
    assert conn.execute("SELECT count(*) AS n FROM public.comments").fetchone()["n"] == 5  # the cascade


def test_a_few_due_rows_among_many_are_walked_by_expiry(conn):
    author = factories.user(conn)
    expiries = [NOW - timedelta(minutes=i) if i % 10 == 0 else NOW + timedelta(minutes=i) for i in range(1, 12001)]
    bulk_posts(conn, author, expiries)  # 1,200 due among 12,000: a tenth
    first = run(conn, limit=100)
    assert "posts:heap" not in first["next"] and first["details"]["posts"] == 100
    latest = conn.execute("SELECT max(expires_at) AS t FROM public.posts WHERE deleted_at = %s", (NOW,)).fetchone()
    assert latest["t"] == NOW - timedelta(minutes=11_010)  # the 100 earliest expiries


# --- stories and messages -------------------------------------------------------------------

@pytest.mark.parametrize("table", ["stories", "messages"])
def test_story_or_message_expiring_exactly_now_is_soft_deleted_and_1us_later_kept(conn, table):
    author, chat_id = factories.user(conn), factories.chat(conn)
    expired = _row(conn, table, author=author, chat_id=chat_id, expires_at=NOW)
    not_yet = _row(conn, table, author=author, chat_id=chat_id, expires_at=NOW + US)
    result = run(conn)
    assert deleted_at(conn, table, expired) == NOW
    assert deleted_at(conn, table, not_yet) is None
    assert result["details"][table] == 1 and result["affected"] == 1


# --- comments of soft-deleted posts ---------------------------------------------------------

def test_comments_of_a_post_soft_deleted_in_this_run_are_soft_deleted(conn):
    author = factories.user(conn)
    post_id = live_post(conn, author, expires_at=NOW - US)
    comments = [factories.comment(conn, post_id, author, created_at=NOW - DAY) for _ in range(2)]
    result = run(conn)
    assert [deleted_at(conn, "comments", c) for c in comments] == [NOW, NOW]
    assert result["details"]["comments"] == 2 and result["affected"] == 3


def test_comments_of_a_pick_soft_deleted_in_this_run_are_soft_deleted(conn):
    author = factories.user(conn)
    pick_id = factories.pick(conn, author, commence_time=NOW - GRACE, created_at=NOW - DAY, expires_at=NOW + DAY)
    comment_id = factories.comment(conn, pick_id, author, created_at=NOW - DAY)
    result = run(conn)
    assert deleted_at(conn, "comments", comment_id) == NOW
    assert result["details"]["comments"] == 1


def test_a_comment_written_since_on_a_post_deleted_long_ago_is_soft_deleted(conn):
    author = factories.user(conn)
    post_id = live_post(conn, author, expires_at=NOW + DAY, deleted_at=NOW - 2 * DAY)  # by the app
    run(conn, NOW - HOUR)
    assert mark(conn) is not None
    comment_id = factories.comment(conn, post_id, author, created_at=NOW - 10 * timedelta(minutes=1))
    assert run(conn, dry_run=True)["details"]["comments"] == 1
    assert run(conn)["details"]["comments"] == 1
    assert deleted_at(conn, "comments", comment_id) == NOW


def test_the_posts_the_previous_complete_run_deleted_are_not_looked_at_again(conn):
    """Their comments were that run's to delete; one written since is found by its created_at
    (above). A comment older than the window on such a post, as only a transaction open for
    longer than the lag could leave, is not seen until the mark is dropped."""
    author = factories.user(conn)
    post_id = live_post(conn, author, expires_at=NOW - 2 * HOUR)
    run(conn, NOW - HOUR)
    assert datetime.fromisoformat(state(conn)["deleted_at"]) == deleted_at(conn, "posts", post_id) == NOW - HOUR
    unseen = factories.comment(conn, post_id, author, created_at=NOW - 3 * HOUR)
    assert run(conn)["details"]["comments"] == 0
    assert deleted_at(conn, "comments", unseen) is None
    conn.execute("DELETE FROM jobs.job_state WHERE job_name = 'expire_content'")
    assert run(conn)["details"]["comments"] == 1


def test_a_run_stopped_before_its_comments_at_the_same_now_leaves_no_post_unseen(conn):
    """A run at the previous complete run's now stamps its posts as that run did; stopped
    before its comments phase, the next run still looks at their comments."""
    author = factories.user(conn)
    run(conn, NOW - HOUR)
    post_id = live_post(conn, author, expires_at=NOW - 2 * HOUR)  # committed after that run read
    comment_id = factories.comment(conn, post_id, author, created_at=NOW - 2 * DAY)
    assert run(conn, NOW - HOUR, limit=1)["details"]["posts"] == 1  # stopped by its limit
    assert deleted_at(conn, "posts", post_id) == NOW - HOUR and deleted_at(conn, "comments", comment_id) is None
    assert run(conn)["details"]["comments"] == 1
    assert deleted_at(conn, "comments", comment_id) == NOW


def test_a_run_in_batches_at_the_previous_complete_runs_now_deletes_the_comments_of_all_its_posts(conn):
    """Its posts carry the same deleted_at as that run's: once it has deleted one, that
    stamp no longer sets any post aside."""
    author = factories.user(conn)
    run(conn)
    posts = [live_post(conn, author, expires_at=NOW - i * timedelta(minutes=1)) for i in range(3)]
    comments = [factories.comment(conn, post_id, author, created_at=NOW - 2 * DAY) for post_id in posts]
    row = run_in_batches(conn, "expire_content", NOW, 1)
    assert row["batches"] > 3 and (row["details"]["posts"], row["details"]["comments"]) == (3, 3)
    assert [deleted_at(conn, "comments", c) for c in comments] == [NOW] * 3


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_a_run_in_batches_walks_the_window_range_by_range_and_then_the_comments_written_since(conn, limit):
    """The comments phase walks the posts deleted in the window by deleted_at, post and comment:
    before the previous complete run's stamp, after it, and this run's own, each with three
    comments a batch may split; then the comment written since on a post deleted long ago.
    Batched, it deletes what one dry call counts, and each batch stops at its limit."""
    author = factories.user(conn)
    gone_long_ago = live_post(conn, author, expires_at=NOW - 3 * DAY, deleted_at=NOW - 2 * DAY)
    run(conn, NOW - HOUR)
    assert datetime.fromisoformat(state(conn)["deleted_at"]) == NOW - HOUR
    before_stamp = live_post(conn, author, expires_at=NOW + DAY, deleted_at=NOW - HOUR - 10 * MINUTE)
    after_stamp = live_post(conn, author, expires_at=NOW + DAY, deleted_at=NOW - 10 * MINUTE)
    this_run = live_post(conn, author, expires_at=NOW - MINUTE)
    comments = [factories.comment(conn, post_id, author, created_at=NOW - DAY)
                for post_id in (before_stamp, after_stamp, this_run) for _ in range(3)]
    comments.append(factories.comment(conn, gone_long_ago, author, created_at=NOW - 5 * MINUTE))
    predicted = run(conn, dry_run=True)["details"]
    assert (predicted["posts"], predicted["comments"]) == (1, 10)
    results, totals = batches(conn, limit)
    assert totals == predicted
    assert all(r["affected"] <= limit for r in results) and len(results) >= -(-11 // limit)
    assert [deleted_at(conn, "comments", c) for c in comments] == [NOW] * 10
    assert run(conn)["affected"] == 0


def test_comments_written_since_on_a_post_the_previous_run_saw_are_all_taken(conn):
    """A post the app deleted before the previous complete run, which that run looked at: the
    comments written on it since (here without the post being rewritten, as an import would)
    are late. Deleting the first rewrites the post (SnapBet's comment count), so the post is
    new to the next batch's window; the second is still taken."""
    author = factories.user(conn)
    post_id = live_post(conn, author, expires_at=NOW + DAY, deleted_at=NOW - HOUR - 20 * MINUTE)
    run(conn, NOW - HOUR)
    conn.execute("ALTER TABLE public.comments DISABLE TRIGGER USER")
    comments = [factories.comment(conn, post_id, author, created_at=NOW - m * MINUTE) for m in (30, 20)]
    conn.execute("ALTER TABLE public.comments ENABLE TRIGGER USER")
    assert run(conn, dry_run=True)["details"]["comments"] == 2
    results, totals = batches(conn, 1)
    assert totals["comments"] == 2 and len(results) >= 2
    assert [deleted_at(conn, "comments", c) for c in comments] == [NOW, NOW]


def test_a_run_in_batches_at_a_now_before_its_window_deletes_the_comments_of_all_its_posts(conn):
    """A real run given a now before the mark's window stamps its posts outside that window:
    the comments phase walks them by that stamp, whichever batch deleted them."""
    author = factories.user(conn)
    run(conn)
    posts = [live_post(conn, author, expires_at=NOW - 3 * HOUR - i * MINUTE) for i in range(3)]
    comments = [factories.comment(conn, post_id, author, created_at=NOW - 2 * DAY) for post_id in posts]
    predicted = run(conn, NOW - 3 * HOUR, dry_run=True)["details"]
    assert (predicted["posts"], predicted["comments"]) == (3, 3)
    row = run_in_batches(conn, "expire_content", NOW - 3 * HOUR, 1)
    assert row["batches"] > 3 and (row["details"]["posts"], row["details"]["comments"]) == (3, 3)
    assert [deleted_at(conn, "comments", c) for c in comments] == [NOW - 3 * HOUR] * 3


def test_comments_of_a_post_soft_deleted_by_an_earlier_run_are_soft_deleted(conn):
    author = factories.user(conn)
    post_id = live_post(conn, author, expires_at=NOW - DAY, deleted_at=NOW - 2 * timedelta(hours=1))
    comment_id = factories.comment(conn, post_id, author, created_at=NOW - 2 * DAY)
    result = run(conn)
    assert deleted_at(conn, "comments", comment_id) == NOW
    assert deleted_at(conn, "posts", post_id) == NOW - 2 * timedelta(hours=1)
    assert result["details"] == {**dict.fromkeys(DETAIL_KEYS, 0), "comments": 1}


def test_comments_of_live_posts_are_kept(conn):
    author = factories.user(conn)
    post_id = live_post(conn, author, expires_at=NOW + US)
    pick_id = factories.pick(conn, author, commence_time=NOW - GRACE + US, created_at=NOW - DAY, expires_at=NOW - US)
    comments = [factories.comment(conn, p, author, created_at=NOW - DAY) for p in (post_id, pick_id)]
    result = run(conn)
    assert [deleted_at(conn, "comments", c) for c in comments] == [None, None]
    assert result["affected"] == 0


# --- what is already deleted ----------------------------------------------------------------

def test_already_soft_deleted_rows_keep_their_deleted_at(conn):
    author, chat_id = factories.user(conn), factories.chat(conn)
    earlier = NOW - 5 * DAY
    post_id = live_post(conn, author, expires_at=NOW - 6 * DAY, deleted_at=earlier)
    pick_id = factories.pick(conn, author, commence_time=NOW - 7 * DAY, created_at=NOW - 8 * DAY,
                             expires_at=NOW - 6 * DAY, deleted_at=earlier)
    comment_id = factories.comment(conn, post_id, author, created_at=NOW - 7 * DAY, deleted_at=earlier)
    story_id = _row(conn, "stories", author=author, chat_id=chat_id, expires_at=NOW - 6 * DAY, deleted_at=earlier)
    message_id = _row(conn, "messages", author=author, chat_id=chat_id, expires_at=NOW - 6 * DAY,
                      deleted_at=earlier)
    assert run(conn, dry_run=True)["affected"] == 0
    result = run(conn)
    for table, row_id in [("posts", post_id), ("posts", pick_id), ("comments", comment_id),
                          ("stories", story_id), ("messages", message_id)]:
        assert deleted_at(conn, table, row_id) == earlier, table
    assert result["affected"] == 0


# --- hard delete: strictly more than 30 days ------------------------------------------------

@pytest.mark.parametrize("table", ["posts", "stories", "messages", "comments"])
def test_row_soft_deleted_exactly_30_days_ago_is_kept(conn, table):
    row_id = _soft_deleted(conn, table, NOW - HARD)
    result = run(conn)
    assert deleted_at(conn, table, row_id) == NOW - HARD
    assert result["details"]["hard_deleted"] == 0 and result["affected"] == 0


@pytest.mark.parametrize("table", ["posts", "stories", "messages", "comments"])
def test_row_soft_deleted_1us_more_than_30_days_ago_is_hard_deleted(conn, table):
    row_id = _soft_deleted(conn, table, NOW - HARD - US)
    result = run(conn)
    assert not exists(conn, table, row_id)
    assert result["details"]["hard_deleted"] == 1 and result["affected"] == 1


def _soft_deleted(conn, table: str, when: datetime):
    author, chat_id = factories.user(conn), factories.chat(conn)
    if table == "posts":
        return live_post(conn, author, expires_at=when - DAY, deleted_at=when)
    if table == "comments":
        post_id = live_post(conn, author, expires_at=NOW + DAY)
        return factories.comment(conn, post_id, author, created_at=when - DAY, deleted_at=when)
    return _row(conn, table, author=author, chat_id=chat_id, expires_at=when - DAY, deleted_at=when)


def test_hard_deleting_a_post_cascades_to_its_comments_and_reactions(conn):
    author = factories.user(conn)
    post_id = live_post(conn, author, expires_at=NOW - HARD - DAY, deleted_at=NOW - HARD - US)
    live_comment = factories.comment(conn, post_id, author, created_at=NOW - 40 * DAY)
    recent_comment = factories.comment(conn, post_id, author, created_at=NOW - 40 * DAY, deleted_at=NOW - DAY)
    reactions = [factories.reaction(conn, post_id, author, created_at=NOW - 40 * DAY) for _ in range(2)]
    result = run(conn)
    assert not exists(conn, "posts", post_id)
    assert not any(exists(conn, "comments", c) for c in (live_comment, recent_comment))
    assert not any(exists(conn, "reactions", r) for r in reactions)
    # The live comment is soft-deleted first (its post is deleted), then goes with the post.
    assert result["details"] == {**dict.fromkeys(DETAIL_KEYS, 0), "comments": 1, "hard_deleted": 1}


# --- the report -----------------------------------------------------------------------------

def test_details_count_each_rule_and_affected_is_their_sum(conn):
    author, chat_id = factories.user(conn), factories.chat(conn)
    expired_post = live_post(conn, author, expires_at=NOW - timedelta(hours=1))
    live_post(conn, author, post_type="outcome", expires_at=NOW)
    live_post(conn, author, expires_at=NOW + timedelta(hours=1))  # kept
    for started in (GRACE, GRACE + DAY):
        factories.pick(conn, author, commence_time=NOW - started, created_at=NOW - 2 * DAY, expires_at=NOW + DAY)
    factories.pick(conn, author, commence_time=NOW - timedelta(hours=1), created_at=NOW - DAY,
                   expires_at=NOW - US)  # kept: game too recent
    for offset in (timedelta(0), timedelta(hours=2), timedelta(hours=5)):
        _row(conn, "stories", author=author, chat_id=chat_id, expires_at=NOW - offset)
    _row(conn, "messages", author=author, chat_id=chat_id, expires_at=NOW - DAY)
    _row(conn, "messages", author=author, chat_id=chat_id, expires_at=NOW + DAY)  # kept
    for _ in range(4):
        factories.comment(conn, expired_post, author, created_at=NOW - DAY)
    _soft_deleted(conn, "stories", NOW - 31 * DAY)
    _soft_deleted(conn, "messages", NOW - 40 * DAY)

    result = run(conn)

    assert result["details"] == {"posts": 2, "picks": 2, "stories": 3, "messages": 1, "comments": 4,
                                 "hard_deleted": 2}
    assert result["affected"] == 14 == sum(result["details"].values())


def test_empty_tables_give_zero(conn):
    assert run(conn) == {"affected": 0, "details": dict.fromkeys(DETAIL_KEYS, 0), "next": None}


def test_second_run_at_the_same_now_affects_nothing_and_changes_nothing(conn):
    author, chat_id = factories.user(conn), factories.chat(conn)
    post_id = live_post(conn, author, expires_at=NOW)
    factories.comment(conn, post_id, author, created_at=NOW - DAY)
    factories.pick(conn, author, commence_time=NOW - GRACE, created_at=NOW - DAY, expires_at=NOW + DAY)
    _row(conn, "stories", author=author, chat_id=chat_id, expires_at=NOW)
    _row(conn, "messages", author=author, chat_id=chat_id, expires_at=NOW)
    _soft_deleted(conn, "posts", NOW - 31 * DAY)
    assert run(conn)["affected"] == 6
    before = factories.digest(conn, *TOUCHED)

    again = run(conn)

    assert again == {"affected": 0, "details": dict.fromkeys(DETAIL_KEYS, 0), "next": None}
    assert factories.digest(conn, *TOUCHED) == before


# --- a row the app changes while the job's write waits for it -------------------------------

@pytest.mark.parametrize(("rule", "change", "kept", "backlog"), [
    ("posts", "expires_at = expires_at + interval '1 day'", True, 0),  # the app extends a post that was due
    ("hard_deleted", "deleted_at = NULL", True, 0),  # the app restores a post soft-deleted long ago
    # Still due: its new version is written, not left behind (a write by the version the
    # candidates read, e.g. by ctid, would skip it, and a windowed phase would never see it again).
    ("posts", "caption = 'edited'", False, 0),
    ("hard_deleted", "caption = 'edited'", False, 0),
    # The same during one pass over the heap (a backlog of 1,500 more due posts).
    ("posts", "expires_at = expires_at + interval '1 day'", True, 1500),
    ("posts", "caption = 'edited'", False, 1500),
    ("hard_deleted", "deleted_at = NULL", True, 1500),
    ("hard_deleted", "caption = 'edited'", False, 1500),
])
def test_a_row_changed_by_the_app_while_the_write_waits_is_checked_again(db, conn, rule, change, kept, backlog):
    author = factories.user(conn)
    if rule == "posts":
        changed, other = (live_post(conn, author, expires_at=NOW) for _ in range(2))
        bulk_posts(conn, author, [NOW - timedelta(minutes=i) for i in range(backlog)])
        assert ("posts:heap" in (run(conn, dry_run=True, limit=10)["next"] or {})) == bool(backlog)
    else:
        changed, other = (_soft_deleted(conn, "posts", NOW - 31 * DAY) for _ in range(2))
        bulk_posts(conn, author, [NOW - 40 * DAY] * backlog, deleted_at=NOW - 31 * DAY)
        assert ("hard_deleted posts:heap" in (run(conn, dry_run=True, limit=10)["next"] or {})) == bool(backlog)
    # The app holds the changed row; the job read it as it was, and its write must see it as
    # it is once the app commits.
    result = past_a_lock(db, conn, lambda app: app.execute(f"UPDATE public.posts SET {change} WHERE id = %s",
                                                           (changed,)), run)["result"]
    assert result["details"][rule] == (1 if kept else 2) + backlog
    if rule == "posts":
        assert (deleted_at(conn, "posts", changed), deleted_at(conn, "posts", other)) == (None if kept else NOW, NOW)
    else:
        assert exists(conn, "posts", changed) == kept and not exists(conn, "posts", other)
        if kept:
            assert deleted_at(conn, "posts", changed) is None


# --- p_limit --------------------------------------------------------------------------------

def test_limit_bounds_the_total_across_rules(conn):
    author, chat_id = factories.user(conn), factories.chat(conn)
    factories.expired_posts(conn, NOW, 4)
    for _ in range(3):
        _row(conn, "stories", author=author, chat_id=chat_id, expires_at=NOW - DAY)
    result = run(conn, limit=5)
    assert result["affected"] == 5
    assert result["details"]["posts"] == 4 and result["details"]["stories"] == 1
    deleted = conn.execute(
        "SELECT (SELECT count(*) FROM public.posts WHERE deleted_at = %(now)s)"
        " + (SELECT count(*) FROM public.stories WHERE deleted_at = %(now)s) AS n", {"now": NOW}
    ).fetchone()["n"]
    assert deleted == 5
    assert run(conn)["affected"] == 2  # the rest is left for the next call


def test_limit_zero_changes_nothing(conn):
    factories.expired_posts(conn, NOW, 2)
    before = factories.digest(conn, *TOUCHED)
    assert run(conn, limit=0)["affected"] == 0
    assert factories.digest(conn, *TOUCHED) == before


# --- the real runner ------------------------------------------------------------------------

def test_run_job_records_the_same_figures_as_a_direct_call(conn):
    author = factories.user(conn)
    post_id = live_post(conn, author, expires_at=NOW)
    factories.comment(conn, post_id, author, created_at=NOW - DAY)
    _soft_deleted(conn, "stories", NOW - 31 * DAY)
    predicted = run(conn, dry_run=True)

    conn.execute("CALL jobs.run_job('expire_content', %s::timestamptz)", (NOW,))

    row = conn.execute(
        "SELECT * FROM jobs.job_executions WHERE job_name = 'expire_content' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert (row["status"], row["success"], row["affected_count"]) == ("succeeded", True, 3)
    assert row["details"] == predicted["details"]
    assert deleted_at(conn, "posts", post_id) == NOW
