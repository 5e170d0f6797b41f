"""jobs.run_job (docs/rules.md: The runner): batches and commits, limits, the time budget, retries, failures
that leave a row behind, skipping a concurrent run, and who may execute what."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import lint
from tests import factories
from tests.support import call_job

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def _last_execution(conn, job: str = "expire_content") -> dict:
    return conn.execute(
        "SELECT * FROM jobs.job_executions WHERE job_name = %s ORDER BY id DESC LIMIT 1", (job,)
    ).fetchone()


def _deleted(conn, ids) -> list[bool]:
    rows = conn.execute(
        "SELECT id, deleted_at IS NOT NULL AS gone FROM public.posts WHERE id = ANY(%s)", (list(ids),)
    ).fetchall()
    state = {r["id"]: r["gone"] for r in rows}
    return [state[i] for i in ids]


RUNNING = "SELECT count(*) AS n FROM jobs.job_executions WHERE status = 'running'"


def _wait_for(conn, query: str, why: str = "timed out") -> None:
    """Poll `query` (a count named n) until it is not 0, for at most 10 s."""
    deadline = time.monotonic() + 10
    while not conn.execute(query).fetchone()["n"]:
        assert time.monotonic() < deadline, why
        time.sleep(0.02)


def _set(conn, **values) -> None:
    """Registry settings of expire_content; a batch_size alone is pinned (min = max = it)."""
    if set(values) & {"batch_size", "min_batch_size", "max_batch_size"} == {"batch_size"}:
        values = {"min_batch_size": values["batch_size"], "max_batch_size": values["batch_size"], **values}
    for key, value in values.items():
        conn.execute(f"UPDATE jobs.job_registry SET {key} = %s WHERE job_name = 'expire_content'", (value,))


def test_runs_in_batches_and_sums_their_details(conn):
    factories.expired_posts(conn, NOW, 5)
    _set(conn, batch_size=2)
    notices = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    row = _last_execution(conn)
    # 2 + 2 + 1: the third batch finds fewer than it asked for, so nothing is left
    assert (row["status"], row["success"], row["affected_count"], row["batches"]) == ("succeeded", True, 5, 3)
    assert row["batch_sizes"] == [2, 2, 2]
    assert row["details"]["posts"] == 5 and row["details"]["comments"] == 0
    assert row["finished_at"] is not None and row["duration_ms"] >= 0
    assert row["params"]["now"].startswith("2026-11-30T12:00:00")
    assert [n for n in notices if " done, " in n] == [
        "job expire_content: batch 1 done, 2 affected, 2 in total",
        "job expire_content: batch 2 done, 2 affected, 4 in total",
        "job expire_content: batch 3 done, 1 affected, 5 in total",
    ]


def test_every_batch_is_committed_on_its_own(conn):
    """The xmin of rows of different batches differ: each batch was its own transaction."""
    ids = factories.expired_posts(conn, NOW, 4)
    _set(conn, batch_size=2)
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    xmins = conn.execute("SELECT count(DISTINCT xmin::text) AS n FROM public.posts WHERE id = ANY(%s)",
                         (ids,)).fetchone()["n"]
    assert xmins == 2


def test_limit_stops_the_run_and_says_so(conn):
    ids = factories.expired_posts(conn, NOW, 5)
    _set(conn, batch_size=2)
    conn.execute("CALL jobs.run_job('expire_content', %s, 3)", (NOW,))
    row = _last_execution(conn)
    assert (row["status"], row["affected_count"], row["batches"]) == ("succeeded", 3, 2)
    assert "stopped at the limit" in row["message"]
    assert _deleted(conn, ids) == [True, True, True, False, False]  # oldest expiry first


def test_zero_limit_does_nothing(conn):
    ids = factories.expired_posts(conn, NOW, 2)
    conn.execute("CALL jobs.run_job('expire_content', %s, 0)", (NOW,))
    assert _last_execution(conn)["affected_count"] == 0
    assert _deleted(conn, ids) == [False, False]


def test_time_budget_ends_the_run_as_partial(conn):
    ids = factories.expired_posts(conn, NOW, 3)
    _set(conn, batch_size=1, time_budget="0 seconds")
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    row = _last_execution(conn)
    assert (row["status"], row["success"], row["affected_count"], row["batches"]) == ("partial", True, 1, 1)
    assert "time budget" in row["message"]
    assert _deleted(conn, ids) == [True, False, False]


def test_a_partial_run_is_finished_by_the_next_run(conn):
    ids = factories.expired_posts(conn, NOW, 3)
    _set(conn, batch_size=1, time_budget="0 seconds")
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    _set(conn, time_budget="1 minute")
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    row = _last_execution(conn)
    assert (row["status"], row["affected_count"], row["batches"]) == ("succeeded", 2, 3)  # 1 + 1 + 0
    assert _deleted(conn, ids) == [True, True, True]


def test_each_batch_continues_after_the_last_one(conn):
    """A row the rule selects but the write never changes (an app trigger that cancels the
    update) is passed over, not searched again by every batch until the time budget."""
    ids = factories.expired_posts(conn, NOW, 5)
    conn.execute("""
        CREATE FUNCTION public.keep_held() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RETURN CASE WHEN OLD.caption = 'held' THEN NULL ELSE NEW END;
        END $$;
        CREATE TRIGGER keep_held BEFORE UPDATE ON public.posts FOR EACH ROW EXECUTE FUNCTION public.keep_held();
    """)
    conn.execute("UPDATE public.posts SET caption = 'held' WHERE id = %s", (ids[0],))
    _set(conn, batch_size=2)
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    row = _last_execution(conn)
    assert (row["status"], row["affected_count"], row["batches"]) == ("succeeded", 4, 3)  # 1 (+1 held) + 2 + 0
    assert _deleted(conn, ids) == [False, True, True, True, True]


def test_the_position_a_batch_returns_is_where_the_next_one_starts(conn):
    ids = factories.expired_posts(conn, NOW, 3)
    first = conn.execute("SELECT jobs.expire_content(%s, false, 2) AS r", (NOW,)).fetchone()["r"]
    expires = conn.execute("SELECT expires_at FROM public.posts WHERE id = %s", (ids[1],)).fetchone()["expires_at"]
    assert first["affected"] == 2
    assert datetime.fromisoformat(first["next"]["posts"][0]) == expires and first["next"]["posts"][1] == str(ids[1])
    # A row before the position is not looked at again, even if it became due meanwhile.
    conn.execute("UPDATE public.posts SET deleted_at = NULL WHERE id = %s", (ids[0],))
    second = call_job(conn, "expire_content", NOW, False, 2, first["next"])
    assert (second["affected"], second["details"]["posts"], second["next"]) == (1, 1, None)
    assert _deleted(conn, ids) == [False, True, True]


def test_a_row_the_app_changes_during_a_batch_is_checked_again(db, conn):
    """The app extends a post's expiry while the batch that selected it waits for its row
    lock: the write sees the new row and leaves it alone."""
    ids = factories.expired_posts(conn, NOW, 2)
    _set(conn, lock_timeout="30s")
    with psycopg.connect(db) as app:
        app.execute("UPDATE public.posts SET expires_at = %s WHERE id = %s", (NOW + timedelta(days=1), ids[1]))
        runner = psycopg.connect(db, autocommit=True)
        thread = threading.Thread(target=runner.execute, args=("CALL jobs.run_job('expire_content', %s)", (NOW,)))
        thread.start()
        _wait_for(conn, "SELECT count(*) AS n FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'")
        app.commit()
        thread.join(10)
        runner.close()
    assert _deleted(conn, ids) == [True, False]
    assert _last_execution(conn)["affected_count"] == 1


def test_batch_size_grows_while_batches_are_quick(conn):
    factories.expired_posts(conn, NOW, 20)
    _set(conn, min_batch_size=1, max_batch_size=6, batch_size=1, batch_time="1 hour")
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    row = _last_execution(conn)
    # doubling at most per batch, never above max_batch_size: 1 + 2 + 4 + 6 + 6 + 1 (short: the end)
    assert (row["affected_count"], row["batch_sizes"]) == (20, [1, 2, 4, 6, 6, 6])


def test_batch_size_shrinks_when_batches_take_longer_than_batch_time(conn):
    factories.expired_posts(conn, NOW, 12)
    _set(conn, min_batch_size=2, max_batch_size=8, batch_size=8, batch_time="0 seconds")
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    row = _last_execution(conn)
    # halving at most per batch: 8 + 4, then a batch of 2 that finds nothing (the end)
    assert (row["affected_count"], row["batch_sizes"]) == (12, [8, 4, 2])
    factories.expired_posts(conn, NOW, 19)
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    # never below min_batch_size: 8 + 4 + 2 + 2 + 2 + 1 (short: the end)
    assert _last_execution(conn)["batch_sizes"] == [8, 4, 2, 2, 2, 2]


POISON = """
CREATE FUNCTION public.poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.caption = 'poison' AND NEW.deleted_at IS NOT NULL THEN
        RAISE EXCEPTION 'poisoned post %', NEW.id USING ERRCODE = 'SB999', HINT = 'remove the poison';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER poison BEFORE UPDATE ON public.posts FOR EACH ROW EXECUTE FUNCTION public.poison();
"""


def test_failure_leaves_a_failed_row_and_keeps_earlier_batches(conn):
    ids = factories.expired_posts(conn, NOW, 4)
    conn.execute("UPDATE public.posts SET caption = 'poison' WHERE id = %s", (ids[2],))
    conn.execute(POISON)
    _set(conn, batch_size=2)
    with pytest.raises(psycopg.Error) as raised:
        conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    assert raised.value.sqlstate == "SB999"
    assert raised.value.diag.message_hint == "remove the poison"
    row = _last_execution(conn)
    assert (row["status"], row["success"], row["sqlstate"]) == ("failed", False, "SB999")
    assert row["error"].startswith("poisoned post")
    assert (row["batches"], row["affected_count"]) == (1, 2)
    assert row["finished_at"] is not None
    assert _deleted(conn, ids) == [True, True, False, False]


DEEP_FAILURE = """
CREATE FUNCTION public.refuse_expiry(p_id uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'post % may not expire', p_id USING ERRCODE = 'SB998', DETAIL = 'held for review';
END $$;
CREATE FUNCTION public.check_post_expiry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.caption = 'held' THEN
        PERFORM refuse_expiry(NEW.id);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER check_post_expiry AFTER UPDATE OF deleted_at ON public.posts
    FOR EACH ROW EXECUTE FUNCTION public.check_post_expiry();
"""


def test_a_failure_keeps_where_it_was_raised(conn):
    """An app trigger that fails two calls deep: the run's row and the re-raised error name
    the raiser and the path to it, innermost first, without the runner's own frame."""
    ids = factories.expired_posts(conn, NOW, 1)
    conn.execute("UPDATE public.posts SET caption = 'held' WHERE id = %s", (ids[0],))
    conn.execute(DEEP_FAILURE)
    with pytest.raises(psycopg.Error) as raised:
        conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    assert raised.value.sqlstate == "SB998"
    frames = _last_execution(conn)["error_context"].splitlines()
    assert frames[0] == "refuse_expiry(uuid) line 3 at RAISE"
    assert frames[1] == "check_post_expiry() line 4 at PERFORM"
    assert frames[2].startswith("jobs.expire_content(timestamp with time zone,boolean,integer,jsonb) line ")
    assert len(frames) == 3  # the runner's own frame is left out
    assert raised.value.diag.message_detail == (
        "held for review\nraised in: " + " <- ".join(frames))


def test_transient_error_is_retried_with_backoff(conn):
    ids = factories.expired_posts(conn, NOW, 2)
    conn.execute("""
        CREATE SEQUENCE public.flaky_calls;
        CREATE FUNCTION public.flaky() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF nextval('public.flaky_calls') = 1 THEN
                RAISE EXCEPTION 'could not serialize' USING ERRCODE = '40001';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER flaky BEFORE UPDATE ON public.posts FOR EACH ROW EXECUTE FUNCTION public.flaky();
    """)
    notices = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    row = _last_execution(conn)
    assert (row["status"], row["affected_count"]) == ("succeeded", 2)
    assert _deleted(conn, ids) == [True, True]
    assert any("hit 40001" in n and "retry 1 of 3" in n for n in notices)


def test_transient_error_that_persists_fails_after_the_retries(conn):
    factories.expired_posts(conn, NOW, 1)
    conn.execute("""
        CREATE FUNCTION public.deadlocked() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01'; END $$;
        CREATE TRIGGER deadlocked BEFORE UPDATE ON public.posts FOR EACH ROW EXECUTE FUNCTION public.deadlocked();
    """)
    notices = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    with pytest.raises(psycopg.errors.DeadlockDetected):
        conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    row = _last_execution(conn)
    assert (row["status"], row["sqlstate"]) == ("failed", "40P01")
    assert "after 3 retries" in row["message"]
    assert sum("retry" in n for n in notices) == 3


def test_lock_timeout_applies_per_batch_and_is_retried(db, conn):
    ids = factories.expired_posts(conn, NOW, 1)
    _set(conn, lock_timeout="100ms", max_retries=1)
    notices = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    with psycopg.connect(db) as holder:
        holder.execute("SELECT 1 FROM public.posts WHERE id = %s FOR UPDATE", (ids[0],))
        started = time.monotonic()
        with pytest.raises(psycopg.errors.LockNotAvailable):
            conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
        assert time.monotonic() - started < 5
    assert [n for n in notices if "retry" in n] == [n for n in notices if "hit 55P03" in n and "retry 1 of 1" in n]
    assert len([n for n in notices if "retry" in n]) == 1
    row = _last_execution(conn)
    assert (row["status"], row["sqlstate"]) == ("failed", "55P03")
    assert _deleted(conn, ids) == [False]


def test_a_run_while_the_same_job_runs_is_skipped(db, conn):
    ids = factories.expired_posts(conn, NOW, 1)
    _set(conn, lock_timeout="20s")
    errors = []

    def first_run() -> None:
        try:
            with psycopg.connect(db, autocommit=True) as c:
                c.execute("CALL jobs.run_job('expire_content', %s, NULL, 'first')", (NOW,))
        except Exception as exc:  # noqa: BLE001 - reported through the list
            errors.append(exc)

    with psycopg.connect(db) as holder:
        holder.execute("SELECT 1 FROM public.posts WHERE id = %s FOR UPDATE", (ids[0],))
        thread = threading.Thread(target=first_run)
        thread.start()
        _wait_for(conn, RUNNING, "the first run never started")
        conn.execute("CALL jobs.run_job('expire_content', %s, NULL, 'second')", (NOW,))
        skipped = _last_execution(conn)
        holder.rollback()
    thread.join(30)
    assert errors == []
    assert (skipped["status"], skipped["executed_by"], skipped["affected_count"]) == ("skipped", "second", 0)
    rows = conn.execute("SELECT executed_by, status, affected_count FROM jobs.job_executions ORDER BY id").fetchall()
    assert rows == [
        {"executed_by": "first", "status": "succeeded", "affected_count": 1},
        {"executed_by": "second", "status": "skipped", "affected_count": 0},
    ]


def test_other_jobs_are_not_blocked_by_a_running_job(conn):
    with psycopg.connect(conn.info.dsn, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(hashtextextended('jobs.run_job:expire_content', 0))")
        conn.execute("CALL jobs.run_job('reset_bankrolls', %s)", (NOW,))
        conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    statuses = conn.execute("SELECT job_name, status FROM jobs.job_executions ORDER BY id").fetchall()
    assert statuses == [{"job_name": "reset_bankrolls", "status": "succeeded"},
                        {"job_name": "expire_content", "status": "skipped"}]


def test_a_cancelled_run_leaves_a_failed_row_and_releases_the_job(db, conn):
    """statement_timeout (query_canceled, which WHEN OTHERS does not catch) still records the failure."""
    ids = factories.expired_posts(conn, NOW, 1)
    _set(conn, lock_timeout="30s")
    with psycopg.connect(db) as holder:
        holder.execute("SELECT 1 FROM public.posts WHERE id = %s FOR UPDATE", (ids[0],))
        with psycopg.connect(db, autocommit=True, row_factory=dict_row) as runner:
            runner.execute("SET statement_timeout = '500ms'")
            with pytest.raises(psycopg.errors.QueryCanceled):
                runner.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
            row = _last_execution(conn)
            assert (row["status"], row["sqlstate"]) == ("failed", "57014")
            holder.rollback()
            # The same session still open: its lock on the job was released, so a run elsewhere is not skipped.
            conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    assert _last_execution(conn)["status"] == "succeeded"
    assert _deleted(conn, ids) == [True]


def test_a_call_inside_a_transaction_block_fails_before_taking_the_job(db, conn):
    with psycopg.connect(db) as caller:  # not autocommit: CALL runs inside BEGIN
        with pytest.raises(psycopg.errors.InvalidTransactionTermination):
            caller.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
        caller.rollback()
        held = conn.execute("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = %s",
                            (caller.info.backend_pid,)).fetchone()["n"]
        assert held == 0
    assert conn.execute("SELECT count(*) AS n FROM jobs.job_executions").fetchone()["n"] == 0


def test_a_failure_keeps_the_constraint_name(conn):
    ids = factories.expired_posts(conn, NOW, 1)
    conn.execute("ALTER TABLE public.posts ADD CONSTRAINT never_deleted CHECK (deleted_at IS NULL) NOT VALID")
    with pytest.raises(psycopg.errors.CheckViolation) as raised:
        conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    assert raised.value.diag.constraint_name == "never_deleted"
    assert raised.value.diag.table_name == "posts"
    assert _last_execution(conn)["sqlstate"] == "23514"
    assert _deleted(conn, ids) == [False]


def test_unknown_job_and_negative_limit_are_refused(conn):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match='unknown job "nope"'):
        conn.execute("CALL jobs.run_job('nope')")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="p_limit must be >= 0"):
        conn.execute("CALL jobs.run_job('expire_content', NULL, -1)")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="p_limit must be >= 0"):
        conn.execute("SELECT jobs.expire_content(now(), true, -1)")
    assert conn.execute("SELECT count(*) AS n FROM jobs.job_executions").fetchone()["n"] == 0


def test_default_now_is_the_transaction_time(conn):
    conn.execute("CALL jobs.run_job('expire_content')")
    row = _last_execution(conn)
    recorded = datetime.fromisoformat(row["params"]["now"])
    assert abs(recorded - row["executed_at"]) < timedelta(seconds=5)


@pytest.mark.parametrize("caller_path", ["evil, public", "pg_temp, evil, public"])
def test_search_path_of_the_caller_cannot_redirect_a_job(conn, caller_path):
    """Tables named like the app's, in a schema earlier on the caller's search_path or in
    pg_temp, are ignored, by the job's own SQL and by an app trigger that names its table
    without a schema (it finds the app's)."""
    ids = factories.expired_posts(conn, NOW, 1)
    conn.execute("""
        CREATE TABLE public.expiry_log (post_id uuid);
        CREATE FUNCTION public.log_expiry() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO expiry_log VALUES (NEW.id);
            RETURN NEW;
        END $$;
        CREATE TRIGGER log_expiry AFTER UPDATE OF deleted_at ON public.posts
            FOR EACH ROW EXECUTE FUNCTION public.log_expiry();
        CREATE SCHEMA evil;
        CREATE TABLE evil.posts (LIKE public.posts INCLUDING ALL);
        CREATE TABLE evil.expiry_log (post_id uuid);
        CREATE TEMP TABLE posts (LIKE public.posts INCLUDING ALL);
        CREATE TEMP TABLE expiry_log (post_id uuid);
    """)
    conn.execute(f"SET search_path = {caller_path}")
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    assert _deleted(conn, ids) == [True]
    logged = conn.execute("SELECT (SELECT array_agg(post_id) FROM public.expiry_log) AS app,"
                          " (SELECT count(*) FROM evil.expiry_log) + (SELECT count(*) FROM pg_temp.expiry_log) AS other"
                          ).fetchone()
    assert (logged["app"], logged["other"]) == ([ids[0]], 0)


def test_job_functions_pin_the_search_path_spec_3_names(conn):
    """pg_catalog, the app schema, pg_temp: in that order."""
    rows = conn.execute("""
        SELECT p.proname, p.proconfig FROM pg_proc p
         WHERE p.pronamespace = 'jobs'::regnamespace AND p.prokind = 'f'
           AND pg_get_function_identity_arguments(p.oid) LIKE 'p_now timestamp with time zone, p_dry_run boolean, p_limit integer%'
    """).fetchall()
    assert {r["proname"] for r in rows} >= {"expire_content", "reset_bankrolls"}
    for r in rows:
        assert 'search_path=pg_catalog, public, pg_temp' in r["proconfig"], r
        assert "plan_cache_mode=force_custom_plan" in r["proconfig"], r  # see macros/job_function.sql


def test_nothing_is_executable_by_public(conn):
    conn.execute("CREATE ROLE jobset_nobody LOGIN")
    try:
        rows = conn.execute("""
            SELECT p.proname, has_function_privilege('jobset_nobody', p.oid, 'EXECUTE') AS can
              FROM pg_proc p WHERE p.pronamespace = 'jobs'::regnamespace ORDER BY 1
        """).fetchall()
        assert {r["proname"] for r in rows} >= {"run_job", "expire_content", "reset_bankrolls"}
        assert [r for r in rows if r["can"]] == []
        usage = conn.execute("SELECT has_schema_privilege('jobset_nobody', 'jobs', 'USAGE') AS u").fetchone()
        assert usage["u"] is False
    finally:
        conn.execute("DROP ROLE jobset_nobody")


def test_functions_are_documented(conn):
    rows = conn.execute("""
        SELECT p.proname, obj_description(p.oid, 'pg_proc') AS doc
          FROM pg_proc p WHERE p.pronamespace = 'jobs'::regnamespace
    """).fetchall()
    assert rows and all(r["doc"] for r in rows), [r["proname"] for r in rows if not r["doc"]]


@pytest.mark.container
def test_plpgsql_check_finds_no_error_in_any_function(conn):
    conn.execute("CREATE EXTENSION plpgsql_check")
    rows = conn.execute(lint.CHECK, ("jobs",)).fetchall()  # trigger functions as their triggers run them
    assert [r for r in rows if r["level"] == "error"] == []


def test_execution_row_survives_a_killed_session(db, conn):
    """A run whose backend dies keeps its `running` row and backend_pid (cleanup marks it abandoned)."""
    ids = factories.expired_posts(conn, NOW, 1)
    _set(conn, lock_timeout="30s")
    with psycopg.connect(db) as holder:
        holder.execute("SELECT 1 FROM public.posts WHERE id = %s FOR UPDATE", (ids[0],))
        runner = psycopg.connect(db, autocommit=True, row_factory=dict_row)
        pid = runner.info.backend_pid
        thread = threading.Thread(
            target=_swallow, args=(runner.execute, "CALL jobs.run_job('expire_content', %s)", (NOW,))
        )
        thread.start()
        _wait_for(conn, RUNNING)
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        thread.join(10)
    row = _last_execution(conn)
    assert (row["status"], row["backend_pid"]) == ("running", pid)


def _swallow(fn, *args) -> None:
    try:
        fn(*args)
    except psycopg.Error:
        pass


@pytest.mark.parametrize(("job", "position"), [
    ("settle_games", {"games": "done"}),
    ("rollup_stats", {"users": "done", "since": None, "through": None}),
    ("calculate_badges", {"users": "done", "best": None}),
    ("cleanup", {"notifications": "done", "executions": "done", "cron_run_details": "done", "reactions": "done",
                 "chats": "done", "abandoned": "done", "since": None, "through": None}),
])
def test_a_finished_phase_in_the_position_is_not_read_as_a_key(conn, job, position):
    """A batch given a position whose phases are all done does nothing and says so."""
    result = call_job(conn, job, NOW, False, None, position)
    assert (result["affected"], result["next"]) == (0, None)
