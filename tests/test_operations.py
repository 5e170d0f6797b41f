"""Operations (docs/rules.md: The runner, The deployer): the health view a monitor reads, drift between the manifest and
the catalog and its repair, the deploy history and lock, run announcements and
`deployer watch`, `run all` in dependency order, and every command's --json."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import cron
from tests import support
from tests.support import cli as deployer

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
MANIFEST = Path(__file__).parent.parent / "sql" / "jobs.toml"


def yearly(tmp_path: Path) -> str:
    """Every job at 00:00 on 1 January (05 past for reset_bankrolls): scheduled for real,
    never ticking during a test."""
    text = MANIFEST.read_text()
    for old, new in (('schedule = "0 * * * *"', 'schedule = "0 0 1 1 *"'),
                     ('schedule = "5 * * * *"', 'schedule = "5 0 1 1 *"'),
                     ('schedule = "*/30 * * * *"', 'schedule = "30 0 1 1 *"'),
                     ('schedule = "15 * * * *"', 'schedule = "15 0 1 1 *"'),
                     ('schedule = "20 * * * *"', 'schedule = "20 0 1 1 *"'),
                     ('schedule = "0 3 * * *"', 'schedule = "0 3 1 1 *"'),
                     ('schedule = "0 4 * * *"', 'schedule = "0 4 1 1 *"')):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "yearly.toml"
    path.write_text(text)
    return str(path)


def health(conn) -> dict[str, dict]:
    return {r["job_name"]: r for r in conn.execute("SELECT * FROM jobs.job_health").fetchall()}


# -- the schedule, read inside the database ------------------------------------------------

@pytest.mark.parametrize("expr", [
    "0 * * * *", "*/30 * * * *", "15 * * * *", "0 3 * * *", "5 0 1 1 *", "*/7 9-17 * * mon-fri",
    "0 0 29 2 *", "0 12 1,15 * 0", "30 6 * jan,jul sun", "0 0 * * 7", "10-20/5 */6 13 * 5", "@weekly",
])
def test_cron_fire_agrees_with_pg_crons_reading(admin_dsn, conn, expr):
    """jobs.cron_fire as deployer/cron.py (pg_cron's parser and clock, from its C source)
    reads the schedule on this server's pg_cron. These cases once checked croniter, which
    reads them as pg_cron does: no expected value changed (tests/test_cron.py has the ones
    where croniter does not)."""
    with psycopg.connect(admin_dsn) as admin:
        version = admin.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'").fetchone()[0][:3]
    entry = cron.parse(expr, version)
    for at in (datetime(2026, 11, 30, 12, 0, 30, tzinfo=timezone.utc),
               datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc),
               datetime(2027, 2, 28, 0, 0, tzinfo=timezone.utc)):
        got = conn.execute("SELECT jobs.cron_fire(%s, %s) AS n, jobs.cron_fire(%s, %s, true) AS p",
                           (expr, at, expr, at)).fetchone()
        assert got["n"] == cron.next_fire(entry, at), (expr, at)
        assert got["p"] == cron.last_fire(entry, at), (expr, at)  # at or before


@pytest.mark.parametrize("expr, next_fire, last_fire", [
    # a day field that starts with `*` makes pg_cron's day test an AND (croniter: OR, Dec 1)
    ("0 0 */2 * 1", datetime(2026, 12, 7), datetime(2026, 11, 23)),
    # a range of one day (croniter: every day)
    ("0 0 27-27 * *", datetime(2026, 12, 27), datetime(2026, 11, 27)),
    # `*` inside a day-field list: the list is every day, and the test an OR (croniter: Mondays)
    ("0 0 1,* * 1", datetime(2026, 12, 1), datetime(2026, 11, 30)),
    # pg_cron skips `#5`: every Friday (croniter: the fifth Friday, 29 January 2027)
    ("56 6 * * FRI#5", datetime(2026, 12, 4, 6, 56), datetime(2026, 11, 27, 6, 56)),
    # a reversed range selects nothing, the rest of the list stands (croniter: a wrap-around,
    # 13:00; the old cron_fire: NULL)
    ("0 13-10,22 * * *", datetime(2026, 11, 30, 22), datetime(2026, 11, 29, 22)),
])
def test_cron_fire_where_croniter_read_otherwise(conn, expr, next_fire, last_fire):
    at = datetime(2026, 11, 30, 12, 0, 30, tzinfo=timezone.utc)
    got = conn.execute("SELECT jobs.cron_fire(%s, %s) AS n, jobs.cron_fire(%s, %s, true) AS p",
                       (expr, at, expr, at)).fetchone()
    assert (got["n"], got["p"]) == (next_fire.replace(tzinfo=timezone.utc), last_fire.replace(tzinfo=timezone.utc))


def test_cron_fire_of_a_malformed_or_reboot_schedule_is_null(conn):
    for expr in ("@reboot", "61 * * * *", "* * *", "*/0 * * * *", "a b c d e", "6/2 * * * *", "0 0 30 2 *"):
        assert conn.execute("SELECT jobs.cron_fire(%s, now()) AS n", (expr,)).fetchone()["n"] is None, expr


# -- health ------------------------------------------------------------------------------------

def test_a_job_whose_schedule_fired_twice_without_a_run_is_overdue(db, conn, tmp_path):
    manifest = yearly(tmp_path)
    assert deployer("deploy", "--manifest", manifest, dsn=db).returncode == 0
    rows = health(conn)
    assert rows["expire_content"]["state"] == "never ran" and rows["expire_content"]["overdue"] is False
    # Scheduled since December 2024: 1 January 2025 and 2026 came and went without a run.
    conn.execute("UPDATE jobs.job_registry SET scheduled_at = '2024-12-01' WHERE job_name = 'expire_content'")
    rows = health(conn)
    assert (rows["expire_content"]["overdue"], rows["expire_content"]["state"]) == (True, "overdue")
    assert rows["expire_content"]["expected_run_at"] == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert rows["expire_content"]["next_run_at"] == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert rows["settle_games"]["overdue"] is False
    status = deployer("status", "--json", "--manifest", manifest, dsn=db)
    assert status.returncode == 1
    report = json.loads(status.stdout)
    assert report["problems"] == [
        "expire_content: overdue: a run was due at 2026-01-01 00:00 UTC, it never ran; `deployer deploy` schedules it "
        "again, for pg_cron's launcher to read it anew"]
    assert {j["job"]: j["state"] for j in report["jobs"]}["expire_content"] == "overdue"
    table = deployer("status", "--manifest", manifest, dsn=db)
    assert table.returncode == 1 and "overdue" in table.stdout
    plan = deployer("deploy", "--plan", "--manifest", manifest, dsn=db)
    assert re.fullmatch(r"would schedule jobs\.expire_content(@\w+)? with pg_cron again, unchanged: it is overdue "
                        r"\(pg_cron may have missed it\)", plan.stdout.strip()), plan.stdout
    # A run after the fire it missed: no longer overdue.
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    rows = health(conn)
    assert (rows["expire_content"]["overdue"], rows["expire_content"]["state"]) == (False, "healthy")
    assert deployer("status", "--manifest", manifest, dsn=db).returncode == 0


def test_health_counts_failures_in_a_row_abandoned_runs_and_a_running_run(db, conn, tmp_path):
    conn.execute("""
        INSERT INTO jobs.job_executions (job_name, status, success, executed_at) VALUES
            ('cleanup', 'failed', false, now() - interval '4 hours'),
            ('cleanup', 'succeeded', true, now() - interval '3 hours'),
            ('cleanup', 'failed', false, now() - interval '2 hours'),
            ('cleanup', 'abandoned', false, now() - interval '90 minutes'),
            ('cleanup', 'failed', false, now() - interval '1 hour'),
            ('cleanup', 'skipped', true, now() - interval '30 minutes')""")
    with psycopg.connect(db, autocommit=True) as other:
        pid, start = other.execute("SELECT pg_backend_pid(), backend_start FROM pg_stat_activity"
                                   " WHERE pid = pg_backend_pid()").fetchone()
        conn.execute("INSERT INTO jobs.job_executions (job_name, status, backend_pid, backend_start, executed_at)"
                     " VALUES ('settle_games', 'running', %s, %s, now() - interval '5 minutes')", (pid, start))
        rows = health(conn)
        assert rows["settle_games"]["state"] == "running"
        assert rows["settle_games"]["running_for"] >= timedelta(minutes=5)
    rows = health(conn)
    cleanup = rows["cleanup"]
    assert (cleanup["state"], cleanup["last_status"], cleanup["consecutive_failures"], cleanup["abandoned_runs"]) == (
        "failing", "failed", 3, 1)
    assert cleanup["last_success_at"] is not None and cleanup["never_ran"] is False
    # Its backend gone, the `running` row counts as abandoned and nothing runs.
    assert (rows["settle_games"]["state"], rows["settle_games"]["abandoned_runs"]) == ("failing", 1)


# -- drift ---------------------------------------------------------------------------------

HAND_EDIT = """
CREATE OR REPLACE FUNCTION jobs.expire_content(p_now timestamptz, p_dry_run boolean DEFAULT false,
                                               p_limit integer DEFAULT NULL, p_after jsonb DEFAULT NULL)
RETURNS jsonb LANGUAGE sql AS $$ SELECT '{"affected": 0, "details": {}}'::jsonb $$
"""


def test_a_function_edited_by_hand_is_named_by_status_and_repaired_by_deploy(db, conn, tmp_path):
    manifest = yearly(tmp_path)
    assert deployer("deploy", "--manifest", manifest, dsn=db).returncode == 0
    assert deployer("status", "--manifest", manifest, dsn=db).returncode == 0
    conn.execute(HAND_EDIT)
    conn.execute("CREATE FUNCTION jobs.by_hand() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    conn.execute("UPDATE jobs.job_registry SET batch_size = 7 WHERE job_name = 'cleanup'")
    signature = "jobs.expire_content(timestamp with time zone,boolean,integer,jsonb)"
    assert sorted((d["object"], d["kind"]) for d in conn.execute("SELECT * FROM jobs.catalog_drift()")) == [
        ("jobs.by_hand()", "extra"), (signature, "changed by hand"), ("registry row cleanup", "changed by hand")]
    assert health(conn)["expire_content"]["state"] == "drifted"

    status = deployer("status", "--json", "--manifest", manifest, dsn=db)
    assert status.returncode == 1
    assert json.loads(status.stdout)["problems"] == [
        f"drift: {signature} changed by hand", "drift: registry row cleanup changed by hand",
        "drift: jobs.by_hand() extra"]
    human = deployer("status", "--manifest", manifest, dsn=db)
    assert human.returncode == 1 and f"drift: {signature} changed by hand" in human.stdout

    plan = deployer("deploy", "--plan", "--manifest", manifest, dsn=db)
    assert plan.stdout.splitlines() == [
        f"would repair jobs/expire_content.sql ({signature} changed by hand)",
        "would repair registry/cleanup (registry row cleanup changed by hand)",
        "would install privileges.sql",
        "would drop extra routine jobs.by_hand()"]
    assert conn.execute("SELECT count(*) AS n FROM jobs.catalog_drift()").fetchone()["n"] == 3  # --plan: no change

    repaired = deployer("deploy", "--manifest", manifest, dsn=db)
    assert repaired.returncode == 0, repaired.stderr
    assert conn.execute("SELECT count(*) AS n FROM jobs.catalog_drift()").fetchone()["n"] == 0
    assert conn.execute("SELECT batch_size FROM jobs.job_registry WHERE job_name = 'cleanup'").fetchone()[
        "batch_size"] == 5000
    assert conn.execute("SELECT to_regprocedure('jobs.by_hand()') AS f").fetchone()["f"] is None
    assert deployer("status", "--manifest", manifest, dsn=db).returncode == 0


def test_status_names_cron_drift_and_code_newer_than_the_database(admin_dsn, db, conn, tmp_path):
    manifest = yearly(tmp_path)
    assert deployer("deploy", "--manifest", manifest, dsn=db).returncode == 0
    name = f"jobs.cleanup@{conn.info.dbname}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute("UPDATE cron.job SET schedule = '*/5 * * * *' WHERE jobname = %s", (name,))
        admin.execute("SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = %s",
                      (f"jobs.cleanup_media@{conn.info.dbname}",))
    changed = Path(manifest).read_text().replace('batch_size = 5000             # objects examined',
                                                 'batch_size = 4000             # objects examined')
    newer = tmp_path / "newer.toml"
    newer.write_text(changed)
    report = json.loads(deployer("status", "--json", "--manifest", str(newer), dsn=db).stdout)
    kinds = {(d["object"], d["kind"]) for d in report["drift"]}
    assert (f"cron job {name}", "schedule changed") in kinds
    assert (f"cron job jobs.cleanup_media@{conn.info.dbname}", "unscheduled") in kinds
    assert ("registry/cleanup_media", "outdated") in kinds
    assert ("cleanup_media: not scheduled: missing from pg_cron; `deployer deploy` schedules it again"
            in report["problems"])
    assert deployer("deploy", "--manifest", str(newer), dsn=db).returncode == 0
    after = deployer("status", "--json", "--manifest", str(newer), dsn=db)
    assert (after.returncode, json.loads(after.stdout)["drift"]) == (0, [])


# -- deploy history and lock ---------------------------------------------------------------------

def test_each_deploy_is_recorded_with_who_what_and_the_checksums(db, conn, tmp_path):
    manifest = yearly(tmp_path)
    before = conn.execute("SELECT count(*) AS n FROM jobs.deployments").fetchone()["n"]
    assert deployer("deploy", "--manifest", manifest, dsn=db).returncode == 0
    assert deployer("deploy", "--plan", "--manifest", manifest, dsn=db).returncode == 0  # not recorded
    assert deployer("deploy", "--manifest", manifest, dsn=db).returncode == 0
    rows = conn.execute("SELECT * FROM jobs.deployments ORDER BY id").fetchall()[before:]
    assert len(rows) == 2
    first, second = rows
    assert first["deployed_by"] == "postgres" and first["version"].startswith("0.1.0")
    assert first["environment"] == "test" and "@" in first["client"]
    assert any(line.startswith("schedule jobs.expire_content@") for line in first["changes"])
    assert second["changes"] == []
    installed = {r["unit"]: r["checksum"] for r in conn.execute("SELECT unit, checksum FROM jobs.deployed_objects")}
    assert second["checksums"] == installed and len(installed) == 39


def _deploy_process(db: str, manifest: str, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in __import__("os").environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=db, DEPLOYER_ENV="test")
    return subprocess.Popen([sys.executable, "-m", "deployer.cli", "deploy", "--manifest", manifest, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            stdin=subprocess.DEVNULL)


def test_two_deploys_started_together_run_one_after_the_other(db, conn, tmp_path):
    manifest = yearly(tmp_path)
    conn.execute(HAND_EDIT)  # work for both: the second must find it done
    before = conn.execute("SELECT coalesce(max(id), 0) AS n FROM jobs.deployments").fetchone()["n"]
    procs = [_deploy_process(db, manifest) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    rows = conn.execute("SELECT changes FROM jobs.deployments WHERE id > %s ORDER BY id", (before,)).fetchall()
    assert len(rows) == 2
    assert any(line.startswith("repair jobs/expire_content.sql") for line in rows[0]["changes"])
    assert not any(line.startswith("repair") for line in rows[1]["changes"])
    assert conn.execute("SELECT count(*) AS n FROM jobs.catalog_drift()").fetchone()["n"] == 0
    assert deployer("status", "--manifest", manifest, dsn=db).returncode == 0


def test_a_deploy_waits_for_the_lock_then_fails_with_one_line_and_changes_nothing(db, conn, tmp_path):
    manifest = yearly(tmp_path)
    conn.execute(HAND_EDIT)
    before = support.all_tables(conn)
    count = conn.execute("SELECT count(*) AS n FROM jobs.deployments").fetchone()["n"]
    with psycopg.connect(db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtextextended('snapbet.jobs.deploy', 0))")
        started = time.monotonic()
        busy = deployer("deploy", "--lock-wait", "1s", "--manifest", manifest, dsn=db)
        waited = time.monotonic() - started
        assert busy.returncode == 1
        assert busy.stderr.strip() == ("error: another deploy of this database is in progress: waited 1s for it "
                                       "(deploy_lock_wait); nothing was changed")
        assert waited >= 1.0
        assert conn.execute("SELECT count(*) AS n FROM jobs.deployments").fetchone()["n"] == count
        assert conn.execute("SELECT count(*) AS n FROM jobs.catalog_drift()").fetchone()["n"] == 1
        # A deploy that waits long enough goes through once the holder lets go.
        waiting = _deploy_process(db, manifest, "--lock-wait", "30s")
        time.sleep(1.5)
        assert waiting.poll() is None
        holder.execute("SELECT pg_advisory_unlock(hashtextextended('snapbet.jobs.deploy', 0))")
        out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert conn.execute("SELECT count(*) AS n FROM jobs.catalog_drift()").fetchone()["n"] == 0
    assert support.all_tables(conn) == before


# -- announcements and watch ---------------------------------------------------------------------

def _watch(db: str, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in __import__("os").environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=db, DEPLOYER_ENV="test")
    proc = subprocess.Popen([sys.executable, "-m", "deployer.cli", "watch", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, stdin=subprocess.DEVNULL)
    assert proc.stderr.readline().startswith("watching ")  # listening from here on
    return proc


def test_run_job_announces_start_batches_and_end_and_watch_prints_them(db, conn):
    from tests import factories

    author = factories.user(conn)
    for _ in range(5):
        factories.post(conn, author, created_at=NOW - timedelta(days=2), expires_at=NOW - timedelta(hours=1))
    conn.execute("UPDATE jobs.job_registry SET batch_size = 2, min_batch_size = 2, max_batch_size = 2"
                 " WHERE job_name = 'expire_content'")
    watcher = _watch(db, "expire_content", "--json", "--timeout", "60")
    conn.execute("CALL jobs.run_job('settle_games', %s)", (NOW,))  # another job: filtered out
    conn.execute("CALL jobs.run_job('expire_content', %s)", (NOW,))
    conn.execute("NOTIFY jobset_runs, 'not json'")  # someone else's: ignored
    lines = []
    while len(lines) < 5:
        line = watcher.stdout.readline()
        assert line, watcher.stderr.read()
        lines.append(json.loads(line))
    watcher.kill()
    watcher.wait()
    run_id = conn.execute("SELECT max(id) AS id FROM jobs.job_executions WHERE job_name = 'expire_content'"
                          ).fetchone()["id"]
    assert [(e["event"], e["job"], e["execution_id"]) for e in lines] == [
        ("start", "expire_content", run_id)] + [("batch", "expire_content", run_id)] * 3 + [
        ("end", "expire_content", run_id)]
    assert [(e["batch"], e["affected"], e["total"], e["size"]) for e in lines[1:4]] == [
        (1, 2, 2, 2), (2, 2, 4, 2), (3, 1, 5, 2)]
    assert lines[0]["executed_by"].startswith("postgres") or lines[0]["executed_by"]
    assert (lines[4]["status"], lines[4]["affected"], lines[4]["batches"]) == ("succeeded", 5, 3)
    assert lines[4]["details"]["posts"] == 5


def test_watch_prints_lines_for_people_a_failure_and_stops_after_count(db, conn):
    conn.execute("""
        CREATE OR REPLACE FUNCTION jobs.cleanup(p_now timestamptz, p_dry_run boolean DEFAULT false,
                                                p_limit integer DEFAULT NULL, p_after jsonb DEFAULT NULL)
        RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire' USING ERRCODE = 'XX001'; END $$""")
    watcher = _watch(db, "--count", "2", "--timeout", "60")
    with pytest.raises(psycopg.errors.DataCorrupted):
        conn.execute("CALL jobs.run_job('cleanup', %s)", (NOW,))
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    start, end = out.splitlines()
    assert " cleanup #" in start and "started by postgres" in start
    assert "failed: 0 affected in 0 batches" in end and "error [SQLSTATE XX001]: disk on fire" in end


def test_watch_bad_input_is_one_line_and_exit_2(db):
    for args, message in ((("nope",), "unknown job 'nope'"), (("--count", "0"), "--count must be 1 or more"),
                          (("--timeout", "-1"), "--timeout must be more than 0 seconds")):
        result = deployer("watch", *args, dsn=db)
        assert result.returncode == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1
    quiet = deployer("watch", "--timeout", "1", "--json", dsn=db)
    assert (quiet.returncode, quiet.stdout) == (0, "")


# -- run all -------------------------------------------------------------------------------------

def test_run_all_follows_after_and_stops_the_dependents_of_a_failed_job(db, conn):
    conn.execute("""
        CREATE OR REPLACE FUNCTION jobs.settle_games(p_now timestamptz, p_dry_run boolean DEFAULT false,
                                                     p_limit integer DEFAULT NULL, p_after jsonb DEFAULT NULL)
        RETURNS jsonb LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'grading broke'; END $$""")
    result = deployer("run", "all", "--force", "--json", "--now", NOW.isoformat(), dsn=db)
    assert result.returncode == 1
    docs = json.loads(result.stdout)
    assert [(d["job"], d["status"]) for d in docs] == [
        ("expire_content", "succeeded"), ("settle_games", "failed"), ("rollup_stats", "not run"),
        ("calculate_badges", "not run"), ("reset_bankrolls", "not run"), ("cleanup", "succeeded"),
        ("cleanup_media", "succeeded")]
    assert docs[2]["message"] == "not run: settle_games did not succeed"
    assert docs[3]["message"] == "not run: settle_games, rollup_stats did not succeed"
    assert docs[4]["message"] == "not run: calculate_badges did not succeed"
    ran = [r["job_name"] for r in conn.execute("SELECT job_name FROM jobs.job_executions ORDER BY id")]
    assert ran == ["expire_content", "settle_games", "cleanup", "cleanup_media"]
    people = deployer("run", "all", "--force", "--now", NOW.isoformat(), dsn=db)
    assert people.returncode == 1 and "rollup_stats: not run: settle_games did not succeed" in people.stdout


@pytest.mark.parametrize(("after", "message"), [
    ('["nope"]', "[jobs.rollup_stats] after: unknown job 'nope'"),
    ('["rollup_stats"]', "[jobs.rollup_stats] after: a job cannot run after itself"),
    ('"settle_games"', "[jobs.rollup_stats] after must be a list of job names"),
])
def test_a_bad_after_is_a_config_error(tmp_path, after, message):
    path = tmp_path / "bad.toml"
    path.write_text(MANIFEST.read_text().replace('after = ["settle_games"]\n', f"after = {after}\n", 1))
    result = deployer("render", "--out", str(tmp_path / "r"), "--manifest", str(path))
    assert (result.returncode, result.stderr.strip()) == (2, f"error: {message}")


def test_a_cycle_of_after_is_a_config_error(tmp_path):
    path = tmp_path / "cycle.toml"
    path.write_text(MANIFEST.read_text().replace('after = ["cleanup"]\n', 'after = ["cleanup"]\n', 1).replace(
        "[jobs.cleanup]\n", '[jobs.cleanup]\nafter = ["cleanup_media"]\n', 1))
    result = deployer("render", "--out", str(tmp_path / "r"), "--manifest", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == "error: after: the jobs cleanup, cleanup_media wait for each other in a cycle"


# -- every command's --json ----------------------------------------------------------------------

def test_every_command_has_json_with_its_exit_code(db, conn, tmp_path):
    manifest = yearly(tmp_path)
    rendered = deployer("render", "--out", str(tmp_path / "r"), "--json")
    doc = json.loads(rendered.stdout)
    assert rendered.returncode == 0 and len(doc["files"]) == 38
    assert {"unit", "path", "bytes"} == set(doc["files"][0])

    plan = json.loads(deployer("deploy", "--plan", "--json", "--manifest", manifest, dsn=db).stdout)
    assert (plan["plan"], plan["changed"]) == (True, False) and plan["changes"]
    done = deployer("deploy", "--json", "--manifest", manifest, dsn=db)
    assert done.returncode == 0 and json.loads(done.stdout)["changed"] is True
    again = json.loads(deployer("deploy", "--json", "--manifest", manifest, dsn=db).stdout)
    assert (again["changed"], again["changes"]) == (False, [])

    status = deployer("status", "--json", "--manifest", manifest, dsn=db)
    report = json.loads(status.stdout)
    assert status.returncode == 0 and set(report) == {"healthy", "problems", "jobs", "drift"}
    assert {"job", "state", "next_run_at", "consecutive_failures", "overdue"} <= set(report["jobs"][0])

    schedule = deployer("schedule", "--json", "--manifest", manifest, dsn=db)
    assert schedule.returncode == 0 and len(json.loads(schedule.stdout)) == 7
    history = deployer("history", "--json", dsn=db)
    assert (history.returncode, json.loads(history.stdout)) == (0, [])

    nowhere = tmp_path / "elsewhere"
    nowhere.mkdir()
    db_status = deployer("db", "status", "--json", cwd=nowhere)
    assert (db_status.returncode, json.loads(db_status.stdout)) == (
        1, {"state": "not created", "url": None, "datadir": None, "version": None})
    db_url = deployer("db", "url", "--json", cwd=nowhere)
    assert db_url.returncode == 2 and db_url.stdout == ""
    db_stop = deployer("db", "stop", "--json", cwd=nowhere)
    assert (db_stop.returncode, json.loads(db_stop.stdout)) == (0, {"state": "not running"})

    gone = deployer("uninstall", "--force", "--json", "--manifest", manifest, dsn=db)
    assert gone.returncode == 0
    assert "drop schema jobs" in json.loads(gone.stdout)["changes"]
    unhealthy = deployer("status", "--json", dsn=db)
    assert unhealthy.returncode == 2 and "not deployed" in unhealthy.stderr


def test_a_read_only_monitor_role_reads_the_health_view(db, conn):
    conn.execute("DROP ROLE IF EXISTS jobset_test_reader")
    conn.execute("CREATE ROLE jobset_test_reader LOGIN PASSWORD 'reader' NOSUPERUSER")
    try:
        conn.execute("ALTER ROLE jobset_test_reader SET default_transaction_read_only = on")
        conn.execute("GRANT USAGE ON SCHEMA jobs TO jobset_test_reader")
        conn.execute("GRANT SELECT ON jobs.job_health TO jobset_test_reader")
        conn.execute("GRANT EXECUTE ON FUNCTION jobs.cron_fire(text, timestamptz, boolean),"
                     " jobs.cron_fire(text, timestamptz, boolean, text, text),"
                     " jobs.cron_field(text, integer, integer, text[], text), jobs.catalog_drift(),"
                     " jobs.unit_catalog(text, text[]), jobs.blind_spots(), jobs.cron_jobs(),"
                     " jobs.backend_alive(integer, timestamptz, timestamptz) TO jobset_test_reader")
        conn.execute("INSERT INTO jobs.job_executions (job_name, status, success) VALUES ('cleanup', 'failed', false)")
        with psycopg.connect(db, user="jobset_test_reader", password="reader", row_factory=dict_row) as reader:
            # Its own session is a stand-in for a run in progress it cannot see the start of.
            pid = reader.execute("SELECT pg_backend_pid() AS p").fetchone()["p"]
            conn.execute("INSERT INTO jobs.job_executions (job_name, status, backend_pid, backend_start)"
                         " SELECT 'settle_games', 'running', %s, backend_start FROM pg_stat_activity WHERE pid = %s",
                         (pid, pid))
            rows = {r["job_name"]: r["state"] for r in reader.execute("SELECT job_name, state FROM jobs.job_health")}
            assert rows["cleanup"] == "failing" and rows["settle_games"] == "running" and len(rows) == 7
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute("SELECT * FROM jobs.job_executions")
    finally:
        conn.execute("DROP OWNED BY jobset_test_reader")
        conn.execute("DROP ROLE jobset_test_reader")
