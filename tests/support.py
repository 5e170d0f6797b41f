"""Helpers the test modules share that are not rows (those are in factories.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tests import forkserver


def cli(*args: str, dsn: str | None = None, env: dict | None = None, cwd: Path | None = None,
        sqlfluff_memo: bool = False):
    """Run `deployer` as a subprocess with no terminal: the manifest's `test` environment,
    the database `dsn` (else none from the caller's environment), extra `env`. A fork of a
    server that has imported its dependencies already (tests/forkserver.py); with
    `sqlfluff_memo`, a new interpreter that keeps sqlfluff's results for the session
    (tests/sqlfluff_memo.py)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEPLOYER_ENV")}
    environ["DEPLOYER_ENV"] = "test"
    if dsn:
        environ["DATABASE_URL"] = dsn
    environ.update(env or {})
    if not sqlfluff_memo:
        return forkserver.run(list(args), environ, cwd, timeout=120)
    return subprocess.run([sys.executable, str(Path(__file__).with_name("sqlfluff_memo.py")), *args],
                          capture_output=True, text=True, env=environ, cwd=cwd, stdin=subprocess.DEVNULL,
                          timeout=120, check=False)


def call_job(conn, job: str, now: datetime, dry_run: bool = False, limit: int | None = None,
             after: dict | None = None) -> dict:
    """A job function called directly, from the batch position `after` (a result's `next`) if
    given: its {affected, details, next}."""
    if after is None:
        return conn.execute(f"SELECT jobs.{job}(%s::timestamptz, %s, %s) AS r", (now, dry_run, limit)).fetchone()["r"]
    return conn.execute(f"SELECT jobs.{job}(%s::timestamptz, %s, %s, %s) AS r",
                        (now, dry_run, limit, Jsonb(after))).fetchone()["r"]


def run_in_batches(conn, job: str, now: datetime, size: int) -> dict:
    """A real run by run_job whose every batch is `size` items: its jobs.job_executions row."""
    conn.execute("UPDATE jobs.job_registry SET batch_size = %s, min_batch_size = %s, max_batch_size = %s"
                 " WHERE job_name = %s", (size, size, size, job))
    conn.execute("CALL jobs.run_job(%s, %s)", (job, now))
    return conn.execute("SELECT * FROM jobs.job_executions WHERE job_name = %s ORDER BY id DESC LIMIT 1",
                        (job,)).fetchone()


def past_a_lock(db: str, conn, hold: Callable[[psycopg.Connection], Any],
                work: Callable[[psycopg.Connection], Any]) -> dict:
    """`work` on a connection of its own while another transaction holds what `hold` (given
    that transaction's connection) takes; once `work` waits for it, that transaction commits
    and `work` finishes. Returns {"result": what it returned} or {"error": the psycopg error}.
    `conn` watches for the wait; the deadlines only bound a test that fails."""
    outcome: dict = {}

    def job() -> None:
        with psycopg.connect(db, autocommit=True, row_factory=dict_row) as jc:
            outcome["pid"] = jc.info.backend_pid
            try:
                outcome["result"] = work(jc)
            except psycopg.Error as exc:
                outcome["error"] = exc

    with psycopg.connect(db) as holder:
        hold(holder)
        thread = threading.Thread(target=job)
        thread.start()
        deadline = time.monotonic() + 120
        while "pid" not in outcome or not conn.execute(
                "SELECT count(*) AS n FROM pg_locks WHERE pid = %s AND NOT granted", (outcome["pid"],)).fetchone()["n"]:
            assert time.monotonic() < deadline, "the job never waited for the lock"
            time.sleep(0.02)
        holder.commit()
    thread.join(120)
    return outcome


def all_tables(conn) -> list[str]:
    """Every table of the app, storage and jobs schemas."""
    return [r["t"] for r in conn.execute(
        "SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables"
        " WHERE schemaname IN ('public', 'storage', 'jobs') ORDER BY 1").fetchall()]


# Not DROP SCHEMA public: the pg_cron extension itself is recorded in that schema.
DROP_APP_SCHEMA = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
        EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', r.tablename);
    END LOOP;
    FOR r IN SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typtype = 'e' LOOP
        EXECUTE format('DROP TYPE IF EXISTS public.%I CASCADE', r.typname);
    END LOOP;
END $$;
DROP SCHEMA IF EXISTS storage CASCADE;
"""


def race_settle_games(dsn: str, now: datetime, limits: tuple[int, ...], runners: int,
                      timeout: float) -> list[dict]:
    """settle_games raced from the same start: a direct caller per limit in `limits`, each
    settling that many games a call until nothing is left, and `runners` CALLs of run_job.
    The details of every direct call; a thread's exception fails the test."""
    start = threading.Barrier(len(limits) + runners)
    done: list[dict] = []
    errors: list[BaseException] = []

    def direct(limit: int) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as c:
                start.wait()
                while True:
                    r = call_job(c, "settle_games", now, False, limit)
                    done.append(r["details"])
                    if r["next"] is None and r["affected"] == 0:
                        break
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def runner() -> None:
        try:
            with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as c:
                start.wait()
                c.execute("CALL jobs.run_job('settle_games', %s)", (now,))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=direct, args=(n,)) for n in limits]
    threads += [threading.Thread(target=runner) for _ in range(runners)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert errors == []
    return done


# Plans as the server runs them ------------------------------------------------------------

AUTO_EXPLAIN = ("auto_explain.log_min_duration = 0", "auto_explain.log_nested_statements = on",
                "auto_explain.log_level = notice", "auto_explain.log_format = json")


def nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def outline(plan: dict, depth: int = 0) -> str:
    """The plan's nodes, one a line, for a failure message."""
    line = "  " * depth + " ".join(filter(None, (plan["Node Type"], plan.get("Relation Name"), plan.get("Index Name"))))
    return "\n".join([line, *(outline(child, depth + 1) for child in plan.get("Plans", []))])


def logged_plans(dsn: str, work: Callable[[psycopg.Connection], object], *settings: str) -> list[dict]:
    """The plans ({"Query Text", "Plan"}) of every statement `work` runs, nested ones included,
    on a session of its own that logs each plan to the client (and `settings` besides)."""
    notices: list[str] = []
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for setting in (*AUTO_EXPLAIN, *settings):
            conn.execute(f"SET {setting}")
        work(conn)
    return [json.loads(text.split("plan:\n", 1)[1]) for text in notices if "plan:\n" in text]
