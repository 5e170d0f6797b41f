"""cleanup (docs/rules.md: The jobs, Boundaries, The runner): each category at its boundary,
pg_cron's history where pg_cron is
installed and not, runs abandoned by a dead backend (a reused PID included), dry runs and
idempotence."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import install
from tests import factories
from tests.support import DROP_APP_SCHEMA, call_job, past_a_lock

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
US = timedelta(microseconds=1)
TOUCHED = ("public.notifications", "public.reactions", "public.posts", "public.chats", "jobs.job_executions")
CATEGORIES = ("notifications", "executions", "cron_run_details", "reactions", "chats", "abandoned")


def run(conn, now: datetime = NOW, *, dry_run: bool = False, limit: int | None = None) -> dict:
    return call_job(conn, "cleanup", now, dry_run, limit)


def only(**counts: int) -> dict:
    return {**dict.fromkeys(CATEGORIES, 0), **counts}


def notification(conn, user_id, created_at: datetime):
    return conn.execute("INSERT INTO public.notifications (user_id, type, created_at) VALUES (%s, 'system', %s)"
                        " RETURNING id", (user_id, created_at)).fetchone()["id"]


def execution(conn, executed_at: datetime, status: str = "succeeded", **values):
    columns = {"job_name": "expire_content", "status": status, "executed_at": executed_at, **values}
    return conn.execute(f"INSERT INTO jobs.job_executions ({', '.join(columns)})"
                        f" VALUES ({', '.join(['%s'] * len(columns))}) RETURNING id",
                        list(columns.values())).fetchone()["id"]


def exists(conn, table: str, row_id) -> bool:
    return conn.execute(f"SELECT count(*) AS n FROM {table} WHERE id = %s", (row_id,)).fetchone()["n"] == 1


# --- retention: strictly older than 30 days (docs/rules.md: Boundaries) ----------------------------------------

@pytest.mark.parametrize(("age", "deleted"), [
    (29 * DAY, False), (30 * DAY, False), (30 * DAY + US, True), (31 * DAY, True)],
    ids=["29d", "30d", "30d+1us", "31d"])
def test_notifications_older_than_30_days_are_deleted(conn, age, deleted):
    user_id = factories.user(conn)
    row = notification(conn, user_id, NOW - age)
    assert run(conn)["details"] == only(notifications=int(deleted))
    assert exists(conn, "public.notifications", row) is not deleted


@pytest.mark.parametrize(("age", "deleted"), [(29 * DAY, False), (30 * DAY, False), (31 * DAY, True)],
                         ids=["29d", "30d", "31d"])
def test_finished_runs_older_than_30_days_are_deleted(conn, age, deleted):
    rows = [execution(conn, NOW - age, status) for status in ("succeeded", "failed", "skipped", "partial")]
    assert run(conn)["details"] == only(executions=4 * int(deleted))
    assert [exists(conn, "jobs.job_executions", r) for r in rows] == [not deleted] * 4


def test_a_running_run_is_never_deleted_while_its_backend_lives(conn):
    me = conn.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()").fetchone()
    row = execution(conn, NOW - 40 * DAY, "running", backend_pid=me["pid"], backend_start=me["backend_start"])
    assert run(conn)["details"] == only()
    assert conn.execute("SELECT status FROM jobs.job_executions WHERE id = %s", (row,)).fetchone()["status"] == "running"


# --- pg_cron's history ---------------------------------------------------------------------------

def test_without_pg_cron_in_this_database_the_job_succeeds_and_prunes_nothing_there(conn):
    assert conn.execute("SELECT to_regclass('cron.job_run_details') AS t").fetchone()["t"] is None
    conn.execute("CALL jobs.run_job('cleanup', %s)", (NOW,))
    row = conn.execute("SELECT status, details FROM jobs.job_executions WHERE job_name = 'cleanup'").fetchone()
    assert (row["status"], row["details"]["cron_run_details"]) == ("succeeded", 0)


def test_pg_crons_history_older_than_the_retention_is_pruned_where_pg_cron_lives(admin_dsn, test_manifest):
    """Supabase's layout: the job set in the database that holds pg_cron (`postgres` here)."""
    install.deploy(admin_dsn, test_manifest, with_app_schema=True, with_schedule=False)
    try:
        with psycopg.connect(admin_dsn, autocommit=True, row_factory=dict_row) as c:
            ids = [c.execute("""
                INSERT INTO cron.job_run_details (jobid, job_pid, database, username, command, status,
                                                  return_message, start_time, end_time)
                VALUES (424242, 1, 'postgres', 'postgres', 'SELECT 1', 'succeeded', '1 row', %s, %s)
                RETURNING runid""", (NOW - age, NOW - age + timedelta(seconds=1))).fetchone()["runid"]
                for age in (45 * DAY, 31 * DAY, 30 * DAY + US, 30 * DAY, DAY)]
            dry = call_job(c, "cleanup", NOW, True)
            assert dry["details"]["cron_run_details"] == 3
            c.execute("UPDATE jobs.job_registry SET batch_size = 2, min_batch_size = 1, max_batch_size = 2")
            c.execute("CALL jobs.run_job('cleanup', %s)", (NOW,))
            row = c.execute("SELECT status, details, batches FROM jobs.job_executions"
                            " WHERE job_name = 'cleanup'").fetchone()
            assert (row["status"], row["details"]["cron_run_details"]) == ("succeeded", 3)
            left = [r["runid"] for r in c.execute("SELECT runid FROM cron.job_run_details WHERE jobid = 424242"
                                                  " ORDER BY runid").fetchall()]
            assert left == ids[3:]
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as c:
            c.execute("DELETE FROM cron.job_run_details WHERE jobid = 424242")
            c.execute("DROP SCHEMA IF EXISTS jobs CASCADE")
            c.execute(DROP_APP_SCHEMA)


# --- reactions on soft-deleted posts, memberless group chats -------------------------------------

def test_reactions_on_soft_deleted_posts_go_and_the_apps_counter_follows(conn):
    author, fan = factories.user(conn), factories.user(conn)
    gone = factories.post(conn, author, created_at=NOW - 2 * DAY, expires_at=NOW - DAY, deleted_at=NOW - DAY)
    live = factories.post(conn, author, created_at=NOW - 2 * DAY, expires_at=NOW + DAY)
    for post_id in (gone, live):
        factories.reaction(conn, post_id, fan, created_at=NOW - 2 * DAY)
        factories.reaction(conn, post_id, author, created_at=NOW - 2 * DAY)
    assert run(conn)["details"] == only(reactions=2)
    counts = {r["id"]: (r["reaction_count"], r["n"]) for r in conn.execute(
        "SELECT p.id, p.reaction_count, (SELECT count(*) FROM public.reactions r WHERE r.post_id = p.id) AS n"
        " FROM public.posts p").fetchall()}
    assert counts == {gone: (0, 0), live: (2, 2)}
    # Posts soft-deleted after that run are seen by the next one.
    later = factories.post(conn, author, created_at=NOW - DAY, expires_at=NOW, deleted_at=NOW)
    factories.reaction(conn, later, fan, created_at=NOW - DAY)
    assert run(conn, NOW + DAY)["details"] == only(reactions=1)


def test_the_apps_triggers_and_cascades_run_with_the_default_plan_cache_mode_and_the_job_after_them_without(conn):
    """SnapBet's per-row trigger on reactions and the chats' ON DELETE CASCADE are not
    re-planned for every deleted row: those two deletes run with plan_cache_mode auto
    (bench/README.md), and the job's later statements (here the abandoned run's mark) with
    its own force_custom_plan again."""
    conn.execute("CREATE TABLE public.seen_mode (what text, mode text)")
    conn.execute("""
        CREATE FUNCTION public.note_mode() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO public.seen_mode VALUES (TG_TABLE_NAME, current_setting('plan_cache_mode'));
            RETURN NULL;
        END $$""")
    for table in ("reactions", "chats", "messages"):
        conn.execute(f"CREATE TRIGGER note_mode AFTER DELETE ON public.{table} FOR EACH ROW"
                     " EXECUTE FUNCTION public.note_mode()")
    conn.execute("CREATE TRIGGER note_mode AFTER UPDATE ON jobs.job_executions FOR EACH ROW"
                 " WHEN (NEW.status = 'abandoned') EXECUTE FUNCTION public.note_mode()")
    author = factories.user(conn)
    gone = factories.post(conn, author, created_at=NOW - 2 * DAY, expires_at=NOW - DAY, deleted_at=NOW - DAY)
    factories.reaction(conn, gone, author, created_at=NOW - 2 * DAY)
    factories.message(conn, group(conn, NOW - DAY), author, created_at=NOW - DAY, expires_at=NOW + DAY)
    me = conn.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()").fetchone()
    execution(conn, NOW - DAY, "running", backend_pid=me["pid"], backend_start=me["backend_start"] - timedelta(hours=1))
    assert run(conn)["details"] == only(reactions=1, chats=1, abandoned=1)
    seen = conn.execute("SELECT what, mode FROM public.seen_mode ORDER BY what").fetchall()
    assert [(r["what"], r["mode"]) for r in seen] == [
        ("chats", "auto"), ("job_executions", "force_custom_plan"), ("messages", "auto"), ("reactions", "auto")]
    assert conn.execute("SHOW plan_cache_mode").fetchone()["plan_cache_mode"] == "auto"  # the session's own


def group(conn, created_at: datetime, chat_type: str = "group"):
    return conn.execute("INSERT INTO public.chats (chat_type, name, created_at) VALUES (%s, %s, %s) RETURNING id",
                        (chat_type, "crew" if chat_type == "group" else None, created_at)).fetchone()["id"]


def test_group_chats_without_members_are_deleted_after_a_grace(conn):
    member = factories.user(conn)
    empty_old, empty_new = group(conn, NOW - timedelta(hours=2)), group(conn, NOW - timedelta(minutes=30))
    empty_dm, with_member = group(conn, NOW - DAY, "dm"), group(conn, NOW - DAY)
    factories.chat_member(conn, with_member, member)
    factories.message(conn, empty_old, member, created_at=NOW - DAY, expires_at=NOW + DAY)
    assert run(conn)["details"] == only(chats=1)
    assert [exists(conn, "public.chats", c) for c in (empty_old, empty_new, empty_dm, with_member)] == [
        False, True, True, True]
    assert conn.execute("SELECT count(*) AS n FROM public.messages").fetchone()["n"] == 0  # cascaded


def test_after_a_complete_run_only_the_chats_that_can_have_become_due_since_are_looked_at(conn):
    """The chats' window (sql/jobs/cleanup.sql): the grace ended since the previous complete
    run's moment less the lag, or a removal moved last_message_at since; not every group chat."""
    member = factories.user(conn)
    young, kept = group(conn, NOW - timedelta(minutes=30)), group(conn, NOW - 2 * DAY)
    factories.chat_member(conn, kept, member)
    assert run(conn)["details"] == only()  # the young chat's grace is not over: recorded as looked at
    assert conn.execute("SELECT (state ->> 'chats_seen')::timestamptz AS at FROM jobs.job_state"
                        " WHERE job_name = 'cleanup'").fetchone()["at"] == NOW
    # emptied by SnapBet's removal trigger, whose own delete of an empty chat is off here
    conn.execute("ALTER TABLE public.chat_members DISABLE TRIGGER cleanup_empty_chats_trigger")
    conn.execute("DELETE FROM public.chat_members WHERE chat_id = %s", (kept,))
    # empty, but nothing about it changed since the run: created before its window, no message
    unseen = group(conn, NOW - 3 * DAY)
    later = NOW + DAY
    assert run(conn, later, dry_run=True)["details"] == only(chats=2)
    assert run(conn, later)["details"] == only(chats=2)
    assert [exists(conn, "public.chats", c) for c in (young, kept, unseen)] == [False, False, True]
    conn.execute("UPDATE jobs.job_state SET state = state - 'chats_seen' WHERE job_name = 'cleanup'")
    assert run(conn, later)["details"] == only(chats=1)  # no moment: every group chat
    assert not exists(conn, "public.chats", unseen)


def test_without_snapbets_removal_triggers_every_group_chat_is_looked_at(conn):
    assert run(conn)["details"] == only()
    emptied = group(conn, NOW - 3 * DAY)  # as if its members left without a trace
    conn.execute("ALTER TABLE public.chat_members DISABLE TRIGGER chat_member_removal_trigger")
    notices: list[str] = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    assert run(conn, NOW + DAY)["details"] == only(chats=1)
    assert not exists(conn, "public.chats", emptied)
    assert [n for n in notices if "chat" in n] == [
        "cleanup: SnapBet's triggers chat_member_removal_trigger and update_chat_last_message_time, which move a "
        "group chat's last_message_at when a member leaves, are not both enabled; every group chat is looked at"]


# --- abandoned runs ----------------------------------------------------------------------------

def test_a_run_whose_backend_was_killed_is_marked_abandoned(db, conn):
    ids = factories.expired_posts(conn, NOW, 1)
    conn.execute("UPDATE jobs.job_registry SET lock_timeout = '30s' WHERE job_name = 'expire_content'")
    with psycopg.connect(db) as holder:
        holder.execute("SELECT 1 FROM public.posts WHERE id = %s FOR UPDATE", (ids[0],))
        victim = psycopg.connect(db, autocommit=True)
        pid = victim.info.backend_pid
        thread = threading.Thread(target=_swallow, args=(victim.execute, "CALL jobs.run_job('expire_content', %s)",
                                                         (NOW,)))
        thread.start()
        deadline = time.monotonic() + 10
        while not conn.execute("SELECT count(*) AS n FROM jobs.job_executions WHERE status = 'running'"
                               ).fetchone()["n"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        thread.join(10)
    while conn.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()["n"]:
        time.sleep(0.02)
    assert run(conn)["details"]["abandoned"] == 1
    row = conn.execute("SELECT status, success, finished_at, message FROM jobs.job_executions"
                       " WHERE job_name = 'expire_content'").fetchone()
    assert (row["status"], row["success"], row["finished_at"]) == ("abandoned", False, NOW)
    assert f"pid {pid}" in row["message"]


def test_a_reused_pid_does_not_keep_a_dead_run_alive(conn):
    me = conn.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()").fetchone()
    mine = execution(conn, NOW - DAY, "running", backend_pid=me["pid"], backend_start=me["backend_start"])
    reused = execution(conn, NOW - DAY, "running", backend_pid=me["pid"],
                       backend_start=me["backend_start"] - timedelta(hours=1))
    # Rows of earlier releases have no backend_start: a live backend with that PID counts
    # only if it started before the run.
    older_alive = execution(conn, me["backend_start"] + timedelta(seconds=1), "running", backend_pid=me["pid"])
    older_dead = execution(conn, me["backend_start"] - timedelta(seconds=1), "running", backend_pid=me["pid"])
    assert run(conn)["details"] == only(abandoned=2)
    statuses = {r["id"]: r["status"] for r in conn.execute("SELECT id, status FROM jobs.job_executions").fetchall()}
    assert statuses == {mine: "running", reused: "abandoned", older_alive: "running", older_dead: "abandoned"}


def test_a_backend_whose_start_the_caller_may_not_see_is_alive_by_its_pid(db, conn):
    """jobs.backend_alive, which cleanup and job_health share: a role without
    pg_read_all_stats sees another role's backend without its start, and then the PID alone
    tells (a live run is never called abandoned); whoever sees the start compares it."""
    me = conn.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()").fetchone()
    alive = "SELECT jobs.backend_alive(%s, %s, %s) AS alive"
    other_start = me["backend_start"] - timedelta(hours=1)
    assert conn.execute(alive, (me["pid"], me["backend_start"], NOW)).fetchone()["alive"] is True
    assert conn.execute(alive, (me["pid"], other_start, NOW)).fetchone()["alive"] is False
    assert conn.execute(alive, (None, None, NOW)).fetchone()["alive"] is False
    conn.execute("DROP ROLE IF EXISTS jobset_test_blind")
    conn.execute("CREATE ROLE jobset_test_blind LOGIN PASSWORD 'blind' NOSUPERUSER")
    try:
        conn.execute("GRANT USAGE ON SCHEMA jobs TO jobset_test_blind")
        conn.execute("GRANT EXECUTE ON FUNCTION jobs.backend_alive(integer, timestamptz, timestamptz)"
                     " TO jobset_test_blind")
        with psycopg.connect(db, user="jobset_test_blind", password="blind", row_factory=dict_row) as blind:
            assert blind.execute("SELECT backend_start FROM pg_stat_activity WHERE pid = %s",
                                 (me["pid"],)).fetchone()["backend_start"] is None
            assert blind.execute(alive, (me["pid"], other_start, NOW)).fetchone()["alive"] is True
    finally:
        conn.execute("DROP OWNED BY jobset_test_blind")
        conn.execute("DROP ROLE jobset_test_blind")


def test_the_runner_records_which_backend_runs_it(conn):
    conn.execute("CALL jobs.run_job('cleanup', %s)", (NOW,))
    row = conn.execute("SELECT e.backend_pid, e.backend_start, a.backend_start AS actual FROM jobs.job_executions e"
                       " JOIN pg_stat_activity a ON a.pid = e.backend_pid").fetchone()
    assert row["backend_start"] == row["actual"] and row["backend_pid"] == conn.info.backend_pid


def _swallow(fn, *args) -> None:
    try:
        fn(*args)
    except psycopg.Error:
        pass


# --- dry runs, batches, idempotence ----------------------------------------------------------

def mess(conn) -> None:
    user_id = factories.user(conn)
    for i in range(7):
        notification(conn, user_id, NOW - (28 + i) * DAY)
        execution(conn, NOW - (27 + 2 * i) * DAY)
        post = factories.post(conn, user_id, created_at=NOW - 3 * DAY, expires_at=NOW - 2 * DAY,
                              deleted_at=NOW - 2 * DAY + i * timedelta(minutes=1) if i % 2 else None)
        factories.reaction(conn, post, user_id, created_at=NOW - 2 * DAY)
        group(conn, NOW - (i + 1) * timedelta(minutes=20))


def test_the_dry_run_predicts_the_real_run_in_batches_and_a_second_run_does_nothing(conn):
    mess(conn)
    before = factories.digest(conn, *TOUCHED)
    dry = run(conn, dry_run=True)
    assert factories.digest(conn, *TOUCHED) == before
    assert dry["details"] == only(notifications=4, executions=5, reactions=3, chats=4)
    conn.execute("UPDATE jobs.job_registry SET batch_size = 2, min_batch_size = 2, max_batch_size = 2"
                 " WHERE job_name = 'cleanup'")
    conn.execute("CALL jobs.run_job('cleanup', %s)", (NOW,))
    row = conn.execute("SELECT status, affected_count, details, batches FROM jobs.job_executions"
                       " WHERE job_name = 'cleanup'").fetchone()
    assert (row["status"], row["affected_count"], row["details"]) == ("succeeded", dry["affected"], dry["details"])
    assert row["batches"] > 5
    assert run(conn) == {"affected": 0, "details": only(), "next": None}


def test_a_backlog_of_old_notifications_goes_by_ranges_of_their_keys_as_the_runner_batches_it(conn):
    """macros/hard_delete.sql, range_delete: 1,500 old notifications among 2,000; each batch
    deletes the next 400 in (created_at, id) order and carries the last one's keys on."""
    user_id = factories.user(conn)
    conn.execute("INSERT INTO public.notifications (user_id, type, created_at)"
                 " SELECT %s, 'system', %s - make_interval(days => CASE WHEN i %% 4 = 0 THEN 1 ELSE 31 END,"
                 " secs => i) FROM generate_series(1, 2000) AS i", (user_id, NOW))
    first = run(conn, dry_run=True, limit=400)
    oldest = conn.execute("SELECT created_at, id FROM public.notifications WHERE created_at < %s"
                          " ORDER BY created_at, id OFFSET 399 LIMIT 1", (NOW - 30 * DAY,)).fetchone()
    assert first["details"]["notifications"] == 400
    assert first["next"]["notifications"] == [oldest["created_at"].isoformat(), str(oldest["id"])]
    dry = run(conn, dry_run=True)
    assert dry["details"] == only(notifications=1500)
    conn.execute("UPDATE jobs.job_registry SET batch_size = 400, min_batch_size = 400, max_batch_size = 400"
                 " WHERE job_name = 'cleanup'")
    conn.execute("CALL jobs.run_job('cleanup', %s)", (NOW,))
    row = conn.execute("SELECT status, affected_count, details, batches, batch_sizes FROM jobs.job_executions"
                       " WHERE job_name = 'cleanup'").fetchone()
    assert (row["status"], row["affected_count"], row["details"]) == ("succeeded", 1500, dry["details"])
    assert row["batch_sizes"][:3] == [400, 400, 400] and row["batches"] == 4
    left = conn.execute("SELECT count(*) AS n, min(created_at) AS oldest FROM public.notifications").fetchone()
    assert (left["n"], left["oldest"]) == (500, NOW - DAY - 2000 * timedelta(seconds=1))


def test_rows_stamped_into_a_batchs_range_while_it_runs_make_the_batch_fail_with_40001_deleting_nothing(db, conn):
    """range_delete never deletes more than asked: old notifications committed between the
    batch's two statements (its last row found, then the delete) fail the batch with
    40001, which run_job retries; the function call here, by itself, rolls back."""
    user_id = factories.user(conn)
    for i in range(20):
        notification(conn, user_id, NOW - 31 * DAY + i * timedelta(minutes=1))

    def hold(holder) -> None:
        # SHARE mode lets the job read the table (its last row) and makes its DELETE wait;
        # the rows inserted meanwhile are committed with the lock's release.
        holder.execute("LOCK TABLE public.notifications IN SHARE MODE")
        for i in range(3):
            holder.execute("INSERT INTO public.notifications (user_id, type, created_at) VALUES (%s, 'system', %s)",
                           (user_id, NOW - 40 * DAY + i * timedelta(minutes=1)))

    outcome = past_a_lock(db, conn, hold, lambda job: run(job, limit=10))
    assert isinstance(outcome.get("error"), psycopg.errors.SerializationFailure)
    assert "notifications: 3 rows came due inside the batch's range while it ran" in str(outcome["error"])
    assert conn.execute("SELECT count(*) AS n FROM public.notifications").fetchone()["n"] == 23
    assert run(conn, limit=10)["details"] == only(notifications=10)
    oldest = conn.execute("SELECT min(created_at) AS t FROM public.notifications").fetchone()["t"]
    assert oldest == NOW - 31 * DAY + 7 * timedelta(minutes=1)


def test_a_reaction_the_app_edits_while_the_job_deletes_it_is_deleted_all_the_same(db, conn):
    """A reaction updated while the delete waited has its new version at another ctid, which
    the TID scan skips; the batch then deletes it by its (still soft-deleted) post."""
    author = factories.user(conn)
    gone = factories.post(conn, author, created_at=NOW - 2 * DAY, expires_at=NOW - DAY, deleted_at=NOW - DAY)
    edited = factories.reaction(conn, gone, factories.user(conn), created_at=NOW - 2 * DAY)
    factories.reaction(conn, gone, factories.user(conn), created_at=NOW - 2 * DAY)
    edit = "UPDATE public.reactions SET emoji = '👀' WHERE id = %s"
    outcome = past_a_lock(db, conn, lambda holder: holder.execute(edit, (edited,)), run)
    assert outcome["result"]["details"] == only(reactions=2)
    assert conn.execute("SELECT count(*) AS n FROM public.reactions").fetchone()["n"] == 0
    counter = conn.execute("SELECT reaction_count FROM public.posts WHERE id = %s", (gone,)).fetchone()
    assert counter["reaction_count"] == 0


def test_a_reaction_the_app_moves_to_a_live_post_while_the_job_deletes_is_kept(db, conn):
    """The reactions' delete rechecks, on the version the app committed, that the reaction is
    still on the soft-deleted post it was found on."""
    author = factories.user(conn)
    gone = factories.post(conn, author, created_at=NOW - 2 * DAY, expires_at=NOW - DAY, deleted_at=NOW - DAY)
    live = factories.post(conn, author, created_at=NOW - 2 * DAY, expires_at=NOW + DAY)
    moved, stays = (factories.reaction(conn, gone, factories.user(conn), created_at=NOW - 2 * DAY) for _ in range(2))
    move = "UPDATE public.reactions SET post_id = %s WHERE id = %s"
    outcome = past_a_lock(db, conn, lambda holder: holder.execute(move, (live, moved)), run)
    assert outcome["result"]["details"] == only(reactions=1)
    left = conn.execute("SELECT id, post_id FROM public.reactions").fetchall()
    assert [(r["id"], r["post_id"]) for r in left] == [(moved, live)]
    assert stays not in [r["id"] for r in left]
