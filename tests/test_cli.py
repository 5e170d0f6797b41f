"""The `deployer` command end to end, as a subprocess against a real database: deploy and
its idempotence, pg_cron registration, dry and real runs, history, schedule, status, and
bad input that gets one line and exit code 2 and changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer.seed import SYSTEM_USER_ID
from tests import factories, support
from tests.support import DROP_APP_SCHEMA
from tests.conftest import drop_database, new_database
from tests.support import cli as deployer

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def cron_jobs(admin_dsn: str, database: str) -> list[dict]:
    with psycopg.connect(admin_dsn, row_factory=dict_row) as c:
        return c.execute("SELECT jobid, jobname, schedule, command, database, username, active FROM cron.job"
                         " WHERE database = %s ORDER BY jobid", (database,)).fetchall()


def digest(conn) -> dict[str, str | None]:
    """An md5 of every app table and job table: equal digests, no row changed."""
    return factories.digest(conn, *support.all_tables(conn))


def _dbname(conn) -> str:
    return conn.info.dbname


@pytest.mark.container
def test_deploy_schedules_every_enabled_job_and_a_second_deploy_changes_nothing(admin_dsn, db, conn):
    first = deployer("deploy", dsn=db)
    assert first.returncode == 0, first.stderr
    assert "schedule jobs.expire_content@" in first.stdout
    before = cron_jobs(admin_dsn, _dbname(conn))
    assert [(j["jobname"], j["schedule"], j["active"]) for j in before] == [
        (f"jobs.expire_content@{_dbname(conn)}", "0 * * * *", True),
        (f"jobs.settle_games@{_dbname(conn)}", "*/30 * * * *", True),
        (f"jobs.rollup_stats@{_dbname(conn)}", "15 * * * *", True),
        (f"jobs.calculate_badges@{_dbname(conn)}", "20 * * * *", True),
        (f"jobs.reset_bankrolls@{_dbname(conn)}", "5 * * * *", True),
        (f"jobs.cleanup@{_dbname(conn)}", "0 3 * * *", True),
        (f"jobs.cleanup_media@{_dbname(conn)}", "0 4 * * *", True),
    ]
    assert before[0]["command"] == ("DO $jobset$BEGIN SET ROLE \"jobset_runner\"; "
                                    "CALL \"jobs\".run_job('expire_content', p_executed_by => 'pg_cron'); END$jobset$")
    deployed = conn.execute("SELECT unit, deployed_at FROM jobs.deployed_objects ORDER BY unit").fetchall()

    second = deployer("deploy", dsn=db)
    assert (second.returncode, second.stdout.strip()) == (0, "no changes")
    assert cron_jobs(admin_dsn, _dbname(conn)) == before
    assert conn.execute("SELECT unit, deployed_at FROM jobs.deployed_objects ORDER BY unit").fetchall() == deployed


def test_deploy_no_schedule_installs_without_touching_pg_cron(admin_dsn, db, conn):
    result = deployer("deploy", "--no-schedule", dsn=db)
    assert result.returncode == 0 and "schedule" not in result.stdout.replace("--no-schedule", "")
    assert cron_jobs(admin_dsn, _dbname(conn)) == []
    assert conn.execute("SELECT count(*) AS n FROM jobs.job_registry").fetchone()["n"] == 7


def test_deploy_unschedules_strays_of_its_own(admin_dsn, db, conn):
    """Another cron job calling our runner in this database (an old name) is ours and goes."""
    assert deployer("deploy", dsn=db).returncode == 0
    with psycopg.connect(admin_dsn, autocommit=True) as c:
        c.execute("SELECT cron.schedule_in_database('an-old-name', '0 * * * *', %s, %s)",
                  ("CALL \"jobs\".run_job('expire_content')", _dbname(conn)))
    assert len(cron_jobs(admin_dsn, _dbname(conn))) == 8
    result = deployer("deploy", dsn=db)
    assert result.returncode == 0 and "unschedule" in result.stdout
    assert len(cron_jobs(admin_dsn, _dbname(conn))) == 7
    assert deployer("deploy", dsn=db).stdout.strip() == "no changes"


def test_deploy_plan_shows_changes_and_makes_none(admin_dsn, db, conn):
    plan = deployer("deploy", "--plan", dsn=db)
    assert plan.returncode == 0, plan.stderr
    assert "would schedule jobs.expire_content@" in plan.stdout
    assert cron_jobs(admin_dsn, _dbname(conn)) == []


def test_deploy_follows_the_manifest_when_it_changes(admin_dsn, db, conn, tmp_path):
    assert deployer("deploy", dsn=db).returncode == 0
    text = (Path(__file__).parent.parent / "sql" / "jobs.toml").read_text()
    changed = text.replace('schedule = "0 * * * *"', 'schedule = "*/15 * * * *"').replace(
        "confirm = true", "confirm = true\nenabled = false", 1).replace("enabled = true\nbatch_size = 2000", "batch_size = 2000")
    manifest = tmp_path / "jobs.toml"
    manifest.write_text(changed)
    result = deployer("deploy", "--manifest", str(manifest), dsn=db)
    assert result.returncode == 0, result.stderr
    jobs = cron_jobs(admin_dsn, _dbname(conn))
    assert [(j["jobname"], j["schedule"]) for j in jobs] == [(f"jobs.expire_content@{_dbname(conn)}", "*/15 * * * *"),
                                                             (f"jobs.settle_games@{_dbname(conn)}", "*/30 * * * *"),
                                                             (f"jobs.rollup_stats@{_dbname(conn)}", "15 * * * *"),
                                                             (f"jobs.calculate_badges@{_dbname(conn)}", "20 * * * *"),
                                                             (f"jobs.cleanup@{_dbname(conn)}", "0 3 * * *"),
                                                             (f"jobs.cleanup_media@{_dbname(conn)}", "0 4 * * *")]
    registry = conn.execute("SELECT job_name, enabled FROM jobs.job_registry ORDER BY 1").fetchall()
    assert registry == [{"job_name": "calculate_badges", "enabled": True},
                        {"job_name": "cleanup", "enabled": True},
                        {"job_name": "cleanup_media", "enabled": True},
                        {"job_name": "expire_content", "enabled": True},
                        {"job_name": "reset_bankrolls", "enabled": False},
                        {"job_name": "rollup_stats", "enabled": True},
                        {"job_name": "settle_games", "enabled": True}]


def test_a_job_removed_from_the_manifest_is_unscheduled_and_dropped(admin_dsn, db, conn, tmp_path):
    assert deployer("deploy", dsn=db).returncode == 0
    text = (Path(__file__).parent.parent / "sql" / "jobs.toml").read_text()
    start = text.index("[jobs.reset_bankrolls]")
    manifest = tmp_path / "jobs.toml"
    manifest.write_text(text[:start] + text[text.index("[environments"):])
    result = deployer("deploy", "--manifest", str(manifest), dsn=db)
    assert result.returncode == 0, result.stderr
    assert "remove job reset_bankrolls" in result.stdout
    assert [j["jobname"] for j in cron_jobs(admin_dsn, _dbname(conn))] == [
        f"jobs.{job}@{_dbname(conn)}" for job in ("expire_content", "settle_games", "rollup_stats", "calculate_badges")]
    assert conn.execute("SELECT to_regprocedure('jobs.reset_bankrolls(timestamptz, boolean, integer, jsonb)') AS f"
                        ).fetchone()["f"] is None


def test_deploy_when_pg_cron_lives_in_the_same_database(admin_dsn):
    """Supabase's layout: pg_cron in the app's own database (here `postgres`): plain job names."""
    with psycopg.connect(admin_dsn, autocommit=True) as c:
        c.execute("CREATE SCHEMA IF NOT EXISTS jobset_probe")  # proves we can write; removed below
        c.execute("DROP SCHEMA jobset_probe")
    try:
        first = deployer("deploy", "--with-app-schema", dsn=admin_dsn)
        assert first.returncode == 0, first.stderr
        names = [j["jobname"] for j in cron_jobs(admin_dsn, "postgres")]
        assert names == ["jobs.expire_content", "jobs.settle_games", "jobs.rollup_stats", "jobs.calculate_badges",
                         "jobs.reset_bankrolls", "jobs.cleanup", "jobs.cleanup_media"]
        assert deployer("deploy", dsn=admin_dsn).stdout.strip() == "no changes"
    finally:
        result = deployer("uninstall", "--force", dsn=admin_dsn)
        with psycopg.connect(admin_dsn, autocommit=True) as c:
            c.execute(DROP_APP_SCHEMA)
    assert result.returncode == 0, result.stderr
    assert cron_jobs(admin_dsn, "postgres") == []


def test_deploy_onto_an_existing_snapbet_database(admin_dsn, template_dsn):
    """A database that holds SnapBet's tables but no job set: a plain deploy does everything."""
    name, dsn = new_database(admin_dsn, "template0")
    try:
        with psycopg.connect(dsn, autocommit=True) as c:
            from deployer import install, manifest
            install.install_app_schema(c, manifest.load(environment="test").template_vars())
        result = deployer("deploy", dsn=dsn)
        assert result.returncode == 0, result.stderr
        run = deployer("run", "expire_content", "--json", dsn=dsn)
        assert json.loads(run.stdout)["status"] == "succeeded"
    finally:
        drop_database(admin_dsn, name)


def test_deploy_keeps_history_of_an_existing_job_executions_table(admin_dsn, template_dsn):
    """SnapBet's own job_executions (the seed's columns) is extended; its rows keep their outcome."""
    name, dsn = new_database(admin_dsn, "template0")
    try:
        with psycopg.connect(dsn, autocommit=True) as c:
            from deployer import install, manifest
            install.install_app_schema(c, manifest.load(environment="test").template_vars())
            c.execute("""
                CREATE SCHEMA jobs;
                CREATE TABLE jobs.job_executions (
                    id bigserial PRIMARY KEY, job_name text NOT NULL, success boolean NOT NULL,
                    message text, affected_count int DEFAULT 0, duration_ms int, details jsonb,
                    executed_at timestamptz DEFAULT now(), executed_by text);
                INSERT INTO jobs.job_executions (job_name, success) VALUES ('expire_content', true),
                                                                         ('expire_content', false);
            """)
        assert deployer("deploy", "--no-schedule", dsn=dsn).returncode == 0
        assert deployer("run", "expire_content", dsn=dsn).returncode == 0
        with psycopg.connect(dsn, row_factory=dict_row) as c:
            rows = c.execute("SELECT success, status FROM jobs.job_executions ORDER BY id").fetchall()
        assert rows == [{"success": True, "status": "succeeded"}, {"success": False, "status": "failed"},
                        {"success": True, "status": "succeeded"}]
    finally:
        drop_database(admin_dsn, name)


def test_deploy_onto_a_database_without_snapbet_tables_is_refused(admin_dsn, template_dsn):
    name, dsn = new_database(admin_dsn, "template0")
    try:
        result = deployer("deploy", dsn=dsn)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "lacks SnapBet's tables" in result.stderr
        with psycopg.connect(dsn) as c:
            assert c.execute("SELECT to_regnamespace('jobs')").fetchone()[0] is None
    finally:
        drop_database(admin_dsn, name)


@pytest.mark.container
def test_dry_run_json_writes_nothing_and_the_real_run_matches(db, conn):
    author = factories.user(conn)
    for hours in (1, 2, 3):
        post = factories.post(conn, author, created_at=NOW - timedelta(days=1), expires_at=NOW - timedelta(hours=hours))
        factories.comment(conn, post, author, created_at=NOW - timedelta(hours=5))
    factories.post(conn, author, created_at=NOW - timedelta(days=1), expires_at=NOW + timedelta(hours=1))
    before = digest(conn)
    dry = deployer("run", "expire_content", "--dry-run", "--json", "--now", NOW.isoformat(), dsn=db)
    assert dry.returncode == 0, dry.stderr
    preview = json.loads(dry.stdout)
    assert {k: preview[k] for k in ("job", "status", "dry_run", "affected")} == {
        "job": "expire_content", "status": "succeeded", "dry_run": True, "affected": 6}
    assert preview["details"] == {"posts": 3, "picks": 0, "stories": 0, "messages": 0, "comments": 3,
                                  "hard_deleted": 0}
    assert isinstance(preview["duration_ms"], int)
    assert digest(conn) == before

    real = deployer("run", "expire_content", "--json", "--now", NOW.isoformat(), dsn=db)
    assert real.returncode == 0, real.stderr
    result = json.loads(real.stdout)
    assert (result["dry_run"], result["status"], result["affected"]) == (False, "succeeded", 6)
    assert result["details"] == preview["details"]
    assert result["execution_id"] == conn.execute("SELECT max(id) AS m FROM jobs.job_executions").fetchone()["m"]


def test_run_shows_progress_from_the_notices(db, conn):
    factories.expired_posts(conn, NOW, 3)
    conn.execute("UPDATE jobs.job_registry SET batch_size = 1, max_batch_size = 1 WHERE job_name = 'expire_content'")
    result = deployer("run", "expire_content", "--verbose", "--now", NOW.isoformat(), dsn=db)
    assert result.returncode == 0, result.stderr
    assert "batch 3 done, 1 affected, 3 in total" in result.stderr
    assert "expire_content: run succeeded, 3 affected in 4 batches" in result.stdout  # 1 + 1 + 1 + empty


def test_one_batch_is_one_batch_in_the_run_line_its_notice_and_its_history(db, conn):
    factories.expired_posts(conn, NOW, 2)
    result = deployer("run", "expire_content", "--verbose", "--now", NOW.isoformat(), dsn=db)
    assert result.returncode == 0, result.stderr
    assert " affected in 1 batch (" in result.stdout.splitlines()[0]
    assert ": succeeded, " in result.stderr and result.stderr.strip().endswith(" affected in 1 batch")
    assert conn.execute("SELECT message FROM jobs.job_executions").fetchone()["message"].endswith(" in 1 batch")


def test_a_failed_job_exits_1_with_one_line(db, conn):
    factories.expired_posts(conn, NOW, 1)
    conn.execute("""CREATE FUNCTION public.boom() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'boom' USING ERRCODE = 'SB001'; END $$;
                    CREATE TRIGGER boom BEFORE UPDATE ON public.posts FOR EACH ROW EXECUTE FUNCTION public.boom()""")
    result = deployer("run", "expire_content", "--now", NOW.isoformat(), dsn=db)
    assert result.returncode == 1
    assert "job expire_content failed: boom [SQLSTATE SB001]" in result.stderr
    assert "Traceback" not in result.stderr
    as_json = deployer("run", "expire_content", "--json", "--now", NOW.isoformat(), dsn=db)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["status"] == "failed"
    assert json.loads(as_json.stdout)["sqlstate"] == "SB001"
    assert json.loads(as_json.stdout)["error_context"].splitlines()[0] == "boom() line 2 at RAISE"


def test_a_run_failed_by_an_app_trigger_names_the_trigger(db, conn):
    """The app trigger's function shows in the error line, `history` and `run --json`."""
    from tests.test_runner import DEEP_FAILURE

    post = factories.expired_posts(conn, NOW, 1)[0]
    conn.execute("UPDATE public.posts SET caption = 'held' WHERE id = %s", (post,))
    conn.execute(DEEP_FAILURE)
    result = deployer("run", "expire_content", "--now", NOW.isoformat(), dsn=db)
    assert result.returncode == 1
    assert "[SQLSTATE SB998] in refuse_expiry(uuid) line 3 at RAISE" in result.stderr
    as_json = json.loads(deployer("run", "expire_content", "--json", "--now", NOW.isoformat(), dsn=db).stdout)
    assert as_json["error_context"].splitlines()[:2] == [
        "refuse_expiry(uuid) line 3 at RAISE", "check_post_expiry() line 4 at PERFORM"]
    shown = deployer("history", "expire_content", dsn=db)
    assert shown.returncode == 0
    assert "failed [SQLSTATE SB998]: post " in shown.stdout
    assert "    raised in refuse_expiry(uuid) line 3 at RAISE\n    called from check_post_expiry() line 4" in shown.stdout
    history = json.loads(deployer("history", "expire_content", "--json", dsn=db).stdout)
    assert history[0]["error_context"] == as_json["error_context"]


def test_reset_bankrolls_refuses_without_a_terminal_unless_forced(db, conn):
    user = factories.user(conn)
    factories.bankroll(conn, user, balance=5000, last_reset=NOW - timedelta(days=8))
    refused = deployer("run", "reset_bankrolls", "--now", NOW.isoformat(), dsn=db)
    assert refused.returncode == 2
    assert "--force" in refused.stderr and refused.stderr.count("\n") == 1
    assert conn.execute("SELECT balance FROM public.bankrolls").fetchone()["balance"] == 5000
    forced = deployer("run", "reset_bankrolls", "--force", "--now", NOW.isoformat(), dsn=db)
    assert forced.returncode == 0, forced.stderr
    assert conn.execute("SELECT balance FROM public.bankrolls").fetchone()["balance"] == 100000
    dry = deployer("run", "reset_bankrolls", "--dry-run", "--json", "--now", NOW.isoformat(), dsn=db)
    assert (dry.returncode, json.loads(dry.stdout)["affected"]) == (0, 0)


@pytest.mark.container
def test_run_all_runs_every_enabled_job(db, conn):
    result = deployer("run", "all", "--force", "--json", "--now", NOW.isoformat(), dsn=db)
    assert result.returncode == 0, result.stderr
    assert [r["job"] for r in json.loads(result.stdout)] == [
        "expire_content", "settle_games", "rollup_stats", "calculate_badges", "reset_bankrolls", "cleanup",
        "cleanup_media"]


def yearly(tmp_path: Path) -> str:
    """The manifest with every job at 00:00 on 1 January: deployed for real, never ticking
    during a test run (whose assertions count runs)."""
    text = (Path(__file__).parent.parent / "sql" / "jobs.toml").read_text()
    path = tmp_path / "yearly.toml"
    path.write_text(text.replace('schedule = "0 * * * *"', 'schedule = "0 0 1 1 *"').replace(
        'schedule = "5 * * * *"', 'schedule = "5 0 1 1 *"'))
    return str(path)


def test_history_schedule_and_status(db, conn, tmp_path):
    manifest = yearly(tmp_path)
    assert deployer("deploy", "--manifest", manifest, dsn=db).returncode == 0
    assert deployer("run", "expire_content", "--now", NOW.isoformat(), dsn=db).returncode == 0
    history = json.loads(deployer("history", "expire_content", "--json", dsn=db).stdout)
    assert [(h["job_name"], h["status"], h["executed_by"].startswith("deployer")) for h in history] == [
        ("expire_content", "succeeded", True)]
    schedule = json.loads(deployer("schedule", "--json", "--manifest", manifest, dsn=db).stdout)
    by_job = {row["job"]: row for row in schedule}
    assert by_job["expire_content"]["description"] == "At 12:00 AM, on day 1 of the month, only in January"
    assert by_job["expire_content"]["scheduled"] is True and by_job["expire_content"]["in_sync"] is True
    assert by_job["expire_content"]["last_status"] == "succeeded"
    next_run = datetime.fromisoformat(by_job["expire_content"]["next_run"])
    assert (next_run.month, next_run.day, next_run.hour) == (1, 1, 0) and next_run > datetime.now(timezone.utc)
    assert by_job["reset_bankrolls"]["last_status"] is None
    table = deployer("schedule", "--manifest", manifest, dsn=db)
    assert "At 12:05 AM" in table.stdout and "5 0 1 1 *" in table.stdout
    status = deployer("status", "--manifest", manifest, dsn=db)
    assert (status.returncode, status.stdout.splitlines()[0]) == (0, "healthy")


def test_deployed_without_a_schedule_on_purpose_is_healthy(db):
    status = deployer("status", "--json", dsn=db)  # the test database: `deploy --no-schedule`
    assert status.returncode == 0, status.stdout
    report = json.loads(status.stdout)
    assert report["problems"] == []
    assert {(j["state"], j["cron_state"]) for j in report["jobs"]} == {("manual", "not scheduled")}


def test_status_is_unhealthy_after_a_failure_or_without_schedule(db, conn, tmp_path):
    manifest = yearly(tmp_path)
    status = deployer("status", "--json", "--manifest", manifest, dsn=db)
    assert status.returncode == 1  # the manifest's code is newer than the deployed one
    assert not any("not scheduled" in p for p in json.loads(status.stdout)["problems"])
    conn.execute("INSERT INTO jobs.job_executions (job_name, status, success) VALUES ('expire_content', 'failed', false)")
    assert deployer("deploy", "--manifest", manifest, dsn=db).returncode == 0
    status = deployer("status", "--json", "--manifest", manifest, dsn=db)
    assert status.returncode == 1
    assert json.loads(status.stdout)["problems"] == ["expire_content: last run failed"]


def test_without_any_database_it_says_how_to_get_one(tmp_path):
    result = deployer("history", cwd=tmp_path)
    assert result.returncode == 2
    assert "deployer db start" in result.stderr and result.stderr.count("\n") == 1


def test_render_writes_the_sql_deploy_would_run(tmp_path):
    result = deployer("render", "--out", str(tmp_path / "out"), "--with-app-schema")
    assert result.returncode == 0, result.stderr
    rendered = (tmp_path / "out" / "jobs" / "expire_content.sql").read_text()
    assert 'CREATE OR REPLACE FUNCTION "jobs"."expire_content"(' in rendered
    assert "'3 hours'::interval" in rendered and "'30 days'::interval" in rendered
    assert "{{" not in rendered and "{#" not in rendered
    assert (tmp_path / "out" / "app" / "20_users.sql").is_file()
    assert (tmp_path / "out" / "framework" / "40_run_job.sql").is_file()
    # The indexes deploy builds after its transaction, with the comment that marks them as ours.
    built = (tmp_path / "out" / "indexes" / "expire_content.sql").read_text()
    assert "CREATE INDEX CONCURRENTLY jobset_" in built
    assert "COMMENT ON INDEX \"public\".\"jobset_" in built and "snapbet job set (jobs) index " in built


@pytest.mark.container
def test_demo_deploys_seeds_runs_each_job_and_shows_history(admin_dsn, template_dsn):
    name, dsn = new_database(admin_dsn, "template0")
    try:
        result = deployer("demo", "--users", "60", "--dsn", dsn)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        for step in ("2. deploy", "3. seed", "4. schedule", "5. expire_content", "5. settle_games",
                     "5. rollup_stats", "5. calculate_badges", "5. reset_bankrolls", "5. cleanup", "5. cleanup_media",
                     "6. history"):
            assert step in out
        assert out.count("the real run matches its dry run") == 7
        # It ends with the one command that opens the dashboard on this data, the DSN not shown.
        # The tests run it as `python -m deployer.cli`, so that is the command it gives back.
        assert out.strip().splitlines()[-1] == ("open the dashboard on this data with:"
                                                " python3 -m deployer.cli dashboard --dsn '<the same --dsn>'")
        assert dsn not in out
        with psycopg.connect(dsn, row_factory=dict_row) as c:
            runs = c.execute("SELECT job_name, status FROM jobs.job_executions"
                             " WHERE executed_by <> 'pg_cron' ORDER BY id").fetchall()
            assert runs == [{"job_name": job, "status": "succeeded"}
                            for job in ("expire_content", "settle_games", "rollup_stats", "calculate_badges",
                                        "reset_bankrolls", "cleanup", "cleanup_media")]
            assert c.execute("SELECT count(*) AS n FROM public.users WHERE id <> %s",
                             (SYSTEM_USER_ID,)).fetchone()["n"] == 60
        again = deployer("demo", "--users", "60", "--dsn", dsn)
        assert again.returncode == 0, again.stderr
        assert "seeding skipped" in again.stdout and "no changes" in again.stdout
    finally:
        drop_database(admin_dsn, name)


def test_lint_checks_every_function_and_changes_nothing(db, conn):
    before = digest(conn)
    result = deployer("lint", dsn=db, sqlfluff_memo=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == ("50 templates, 0 sqlfluff findings; "
                                                        "28 functions checked, 0 errors, 0 warnings")
    assert digest(conn) == before
    assert conn.execute("SELECT count(*) AS n FROM pg_extension WHERE extname = 'plpgsql_check'").fetchone()["n"] == 0


def test_lint_finds_a_column_the_jobs_need_but_the_database_lacks(db, conn):
    conn.execute("ALTER TABLE public.stories RENAME COLUMN expires_at TO expiry")
    result = deployer("lint", "--json", dsn=db, sqlfluff_memo=True)
    assert result.returncode == 1
    findings = json.loads(result.stdout)["plpgsql_check"]
    errors = [f for f in findings if f["level"] == "error"]
    assert [f["function"].split("(")[0] for f in errors] == ["jobs.expire_content"]
    assert 'column t.expires_at does not exist' in errors[0]["message"] and errors[0]["sqlstate"] == "42703"


def _on_a_terminal(args: list[str], dsn: str, answer: bytes) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its stdin/stdout, answer its question."""
    import pty

    master, slave = pty.openpty()
    environ = {**os.environ, "DATABASE_URL": dsn, "DEPLOYER_ENV": "test"}
    proc = subprocess.Popen([sys.executable, "-m", "deployer.cli", *args], stdin=slave, stdout=slave,
                            stderr=slave, env=environ, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        while b"[y/N]" not in seen:
            seen += os.read(master, 1024)
        os.write(master, answer)
        while True:
            try:
                chunk = os.read(master, 1024)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    return proc.wait(timeout=60), seen.decode(errors="replace")


@pytest.mark.parametrize(("answer", "code", "balance"), [(b"n\n", 2, 5000), (b"y\n", 0, 100000)])
def test_reset_bankrolls_asks_on_a_terminal(db, conn, answer, code, balance):
    user = factories.user(conn)
    factories.bankroll(conn, user, balance=5000, last_reset=NOW - timedelta(days=8))
    returncode, screen = _on_a_terminal(["run", "reset_bankrolls", "--now", NOW.isoformat()], db, answer)
    assert "reset_bankrolls changes every user's data. Run it now?" in screen
    assert returncode == code, screen
    assert conn.execute("SELECT balance FROM public.bankrolls").fetchone()["balance"] == balance


def test_uninstall_asks_on_a_terminal_saying_what_it_drops(db, conn):
    returncode, screen = _on_a_terminal(["uninstall"], db, b"n\n")
    assert ("uninstall drops the job set: its cron jobs, its schema jobs with the run history, and its indexes"
            " and triggers on the app's tables (the tables stay). Uninstall it now?") in " ".join(screen.split())
    assert returncode == 2 and "not confirmed; nothing was changed" in screen
    assert conn.execute("SELECT to_regnamespace('jobs') IS NOT NULL AS kept").fetchone()["kept"]
