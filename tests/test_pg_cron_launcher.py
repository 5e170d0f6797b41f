"""pg_cron's launcher, on clusters of the tests' own (the installation's pg_cron: 1.4 or 1.6).

The launcher starts every job, from the list of jobs it holds in memory. It reads cron.job
again when told the table changed, a message that pg_cron 1.4 to 1.6 miss when the
launcher fell behind the server's invalidation queue (deployer/schedule.py says how): a
job scheduled then never starts, until the next change to cron.job. A busy machine can
leave the launcher behind for a moment; here it is stopped (SIGSTOP) while the deploy
schedules the jobs and a second deploy of the job set fills the queue, then resumed.
job_health calls the job overdue, status says `deployer deploy` schedules it again, and
that deploy makes the launcher read cron.job anew: seen as the launcher asking for a lock
on cron.job that the test holds, and then as pg_cron running the job.

Without a launcher (no background worker slot for it) nothing starts: deploy warns, and
status says so."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import install, local, manifest
from deployer.db import dsn_for_database
from deployer.render import sql_root
from tests.support import cli


def launcher_pid(conn: psycopg.Connection) -> int | None:
    row = conn.execute("SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'").fetchone()
    return row["pid"] if row else None


@contextmanager
def stopped(pid: int) -> Iterator[None]:
    """The launcher stopped, as a busy machine may leave it unscheduled; resumed on the way out."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def reads_cron_job(url: str, pid: int, change: Callable[[], None]) -> bool:
    """Whether the launcher reads cron.job anew after `change`: it runs (and commits) while
    the launcher is stopped, then the launcher resumes while a lock on cron.job is held, so
    a read shows as the launcher waiting for that lock (within two minutes)."""
    with psycopg.connect(url, row_factory=dict_row) as holder, psycopg.connect(url, autocommit=True,
                                                                             row_factory=dict_row) as watcher:
        with stopped(pid):
            change()
            holder.execute("LOCK TABLE cron.job IN ACCESS EXCLUSIVE MODE")
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if watcher.execute("SELECT count(*) AS n FROM pg_locks WHERE pid = %s AND NOT granted"
                                   " AND relation = 'cron.job'::regclass", (pid,)).fetchone()["n"]:
                    return True
                time.sleep(0.5)
            return False
        finally:
            holder.rollback()


def every_minute_manifest(tmp_path: Path) -> Path:
    """The job set with expire_content every minute and an overdue_grace of 5 seconds."""
    text = (sql_root() / "jobs.toml").read_text()
    text = text.replace('schedule = "0 * * * *"', 'schedule = "* * * * *"', 1)
    text = text.replace('overdue_grace = "10 minutes"', 'overdue_grace = "5 seconds"', 1)
    path = tmp_path / "jobs.toml"
    path.write_text(text)
    m = manifest.load(path)
    assert (m.jobs["expire_content"].schedule, m.settings["overdue_grace"]) == ("* * * * *", "5 seconds")
    return path


@pytest.mark.slow
def test_a_job_the_launcher_missed_is_overdue_and_deploy_makes_pg_cron_read_it_again(tmp_path):
    path = every_minute_manifest(tmp_path)
    with local.throwaway("jobset-launcher-", 58542) as cluster:
        url = cluster.url()  # pg_cron's database, where the job set is deployed too
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as admin:
            pid = None
            deadline = time.monotonic() + 60
            while pid is None and time.monotonic() < deadline:
                pid = launcher_pid(admin)
                time.sleep(0.2)
            assert pid is not None, "pg_cron's launcher did not start"

            # The launcher reads cron.job when it changes (and has read it since the extension
            # exists: before that, any message would make it read the table).
            assert reads_cron_job(url, pid, lambda: admin.execute(
                "SELECT cron.schedule('jobset_test_warm_up', '0 0 1 1 *', 'SELECT 1')")), \
                "the launcher does not read cron.job when it changes"

            admin.execute("CREATE DATABASE jobset_other")
            with stopped(pid):
                deploy = cli("deploy", "--with-app-schema", "--manifest", str(path), dsn=url)
                assert deploy.returncode == 0, deploy.stderr
                # Another deploy (as a migration would) fills the invalidation queue further.
                install.deploy(dsn_for_database(url, "jobset_other"), manifest.load(path), with_app_schema=True,
                               with_schedule=False)

            deadline = time.monotonic() + 180
            state = None
            while time.monotonic() < deadline:
                state = admin.execute("SELECT state FROM jobs.job_health WHERE job_name = 'expire_content'"
                                      ).fetchone()["state"]
                if state == "overdue":
                    break
                time.sleep(1)
            assert state == "overdue", "pg_cron ran the job: the launcher did not miss when it was scheduled"
            ran = admin.execute("SELECT count(*) AS n FROM cron.job_run_details AS d JOIN cron.job AS j USING (jobid)"
                                " WHERE j.jobname = 'jobs.expire_content'").fetchone()["n"]
            assert ran == 0

            status = cli("status", "--manifest", str(path), dsn=url)
            assert status.returncode == 1, status.stdout + status.stderr
            said = status.stdout + status.stderr
            assert "expire_content: overdue: " in said and ("`deployer deploy` schedules it again, for pg_cron's "
                                                            "launcher to read it anew") in said, said
            assert "launcher is not running" not in said
            plan = cli("deploy", "--plan", "--manifest", str(path), dsn=url)
            assert plan.returncode == 0, plan.stderr
            assert ("would schedule jobs.expire_content with pg_cron again, unchanged: it is overdue (pg_cron may "
                    "have missed it)") in plan.stdout.splitlines(), plan.stdout

            def deploy_again() -> None:
                again = cli("deploy", "--manifest", str(path), dsn=url)
                assert again.returncode == 0, again.stderr
            assert reads_cron_job(url, pid, deploy_again), \
                "the launcher did not read cron.job after the deploy scheduled the job again"
            deadline = time.monotonic() + 150
            while time.monotonic() < deadline and not ran:
                ran = admin.execute("SELECT count(*) AS n FROM jobs.job_executions WHERE executed_by = 'pg_cron'"
                                    " AND job_name = 'expire_content'").fetchone()["n"]
                time.sleep(1)
            assert ran, "pg_cron did not run the job after the deploy"
            after = cli("deploy", "--plan", "--manifest", str(path), dsn=url)
            assert "again" not in after.stdout, after.stdout


def test_without_a_launcher_deploy_warns_and_status_says_no_job_starts(tmp_path):
    path = every_minute_manifest(tmp_path)
    with local.throwaway("jobset-launcher-", 58552) as cluster:
        url = cluster.url()
        with psycopg.connect(url, autocommit=True) as c:  # no background worker slot: pg_cron cannot start it
            c.execute("ALTER SYSTEM SET max_worker_processes = 0")
        cluster.stop()
        cluster.start()
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as admin:
            assert launcher_pid(admin) is None
        deploy = cli("deploy", "--with-app-schema", "--manifest", str(path), dsn=url)
        assert deploy.returncode == 0, deploy.stderr
        warning = ("warning: pg_cron's launcher is not running in database postgres: no scheduled job will start "
                   "(pg_cron must be in shared_preload_libraries, with cron.database_name naming that database, and "
                   "a background worker slot free for it: max_worker_processes)")
        assert warning in deploy.stderr.splitlines(), deploy.stderr
        status = cli("status", "--manifest", str(path), dsn=url)
        assert status.returncode == 1
        assert "pg_cron: its launcher is not running in database postgres, so no scheduled job starts" in \
            status.stdout + status.stderr, status.stdout + status.stderr
