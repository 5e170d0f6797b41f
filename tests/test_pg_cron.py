"""The one test that waits for a real pg_cron tick (about a minute): pg_cron itself runs a
scheduled job through jobs.run_job, the run lands in job_executions, and `deployer watch`
prints it live."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import install
from tests import factories


@pytest.mark.container
@pytest.mark.slow
def test_pg_cron_runs_a_scheduled_job_that_logs_to_job_executions(admin_dsn, db, conn, test_manifest):
    now = datetime.now(timezone.utc)
    author = factories.user(conn)
    post = factories.post(conn, author, created_at=now - timedelta(days=2), expires_at=now - timedelta(hours=1))
    every_minute = dataclasses.replace(
        test_manifest,
        jobs={"expire_content": dataclasses.replace(test_manifest.jobs["expire_content"], schedule="* * * * *"),
              "reset_bankrolls": dataclasses.replace(test_manifest.jobs["reset_bankrolls"], enabled=False)},
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=db, DEPLOYER_ENV="test")
    watcher = subprocess.Popen([sys.executable, "-m", "deployer.cli", "watch", "expire_content", "--json",
                                "--count", "3", "--timeout", "150"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, stdin=subprocess.DEVNULL)
    assert watcher.stderr.readline().startswith("watching ")
    install.deploy(db, every_minute)

    deadline = time.monotonic() + 130
    row = None
    while time.monotonic() < deadline:
        row = conn.execute("SELECT * FROM jobs.job_executions WHERE executed_by = 'pg_cron'"
                           " AND status <> 'running' ORDER BY id LIMIT 1").fetchone()
        if row:
            break
        time.sleep(1)
    assert row is not None, "pg_cron did not run the job within two minutes"
    assert (row["job_name"], row["status"], row["affected_count"]) == ("expire_content", "succeeded", 1)
    # pg_cron logged in as the deploying role, and the command switched to the runner role
    # (the manifest's run_as), which may do only that, before it called run_job.
    assert row["run_as"] == test_manifest.roles["runner"]
    out, err = watcher.communicate(timeout=60)
    events = [json.loads(line) for line in out.splitlines()]
    assert watcher.returncode == 0, err
    assert [(e["event"], e["execution_id"]) for e in events] == [
        ("start", row["id"]), ("batch", row["id"]), ("end", row["id"])]
    assert events[0]["executed_by"] == "pg_cron" and events[2]["status"] == "succeeded"
    assert events[2]["affected"] == 1
    assert conn.execute("SELECT deleted_at IS NOT NULL AS gone FROM public.posts WHERE id = %s",
                        (post,)).fetchone()["gone"] is True
    with psycopg.connect(admin_dsn, row_factory=dict_row) as admin:
        details = admin.execute(
            "SELECT d.status, d.username, j.username AS scheduled_as FROM cron.job_run_details d"
            " JOIN cron.job j USING (jobid) WHERE j.database = %s ORDER BY d.runid LIMIT 1",
            (conn.info.dbname,)).fetchone()
    assert details is not None and details["status"] == "succeeded"
    deployer_role = conn.execute("SELECT current_user AS u").fetchone()["u"]
    assert (details["username"], details["scheduled_as"]) == (deployer_role,) * 2
