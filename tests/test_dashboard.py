"""`deployer dashboard` in a real headless browser (Playwright driving Debian's chromium):
the jobs page's health for a seeded history, one chart mark per run, a run pushed to the live
page, no console errors, the token, the loopback rule, and the monitor role's read-only session.

The server is the real command (`python -m deployer.cli dashboard`) on a free loopback port,
stopped at the end of the module. JOBSET_SCREENSHOT=docs/dashboard.png regenerates the
README's screenshot (`-k screenshot`).
"""

from __future__ import annotations

import dataclasses

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import manifest as manifest_mod
from deployer import status
from deployer.dashboard import data
from tests.conftest import fresh_database
from tests.support import cli as deployer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "s3cret-dashboard-token"
SETTLE_ERROR = 'new row for relation "bets" violates check constraint "bets_actual_win_check"'
SETTLE_CONTEXT = "PL/pgSQL function public.settle_bet_trigger() line 7 at UPDATE"

# A week of history: rollup_stats healthy (12 runs in the window, one failed among them,
# two more a fortnight ago), settle_games failing (its last two runs), expire_content overdue
# (scheduled long ago, last run two days back), cleanup changed by hand (drifted); history_db
# adds calculate_badges running.
SEED = f"""
UPDATE jobs.job_registry SET scheduled_at = now(), cron_command = format('CALL jobs.run_job(%L)', job_name);
UPDATE jobs.job_registry SET scheduled_at = '2024-12-01' WHERE job_name = 'expire_content';
INSERT INTO jobs.job_executions (job_name, status, success, affected_count, batches, duration_ms, executed_at,
                                 finished_at, executed_by, params, error, sqlstate, error_context)
SELECT 'rollup_stats', CASE WHEN i = 5 THEN 'failed' ELSE 'succeeded' END, i <> 5, 40 * i % 170, 1 + i % 3,
       300 + 90 * i % 700, now() - i * interval '6 hours', now() - i * interval '6 hours' + interval '1 second',
       'pg_cron', jsonb_build_object('now', now() - i * interval '6 hours', 'limit', NULL),
       CASE WHEN i = 5 THEN 'canceling statement due to lock timeout' END, CASE WHEN i = 5 THEN '55P03' END, NULL
  FROM generate_series(1, 12) AS i
UNION ALL
SELECT 'rollup_stats', 'succeeded', true, 10, 1, 200, now() - i * interval '1 day', now() - i * interval '1 day',
       'pg_cron', '{{}}', NULL, NULL, NULL
  FROM generate_series(20, 21) AS i
UNION ALL
SELECT 'settle_games', CASE WHEN i <= 2 THEN 'failed' ELSE 'succeeded' END, i > 2, CASE WHEN i <= 2 THEN 0 ELSE 25 END,
       1, 150 + 10 * i, now() - i * interval '30 minutes', now() - i * interval '30 minutes', 'pg_cron',
       jsonb_build_object('now', now() - i * interval '30 minutes', 'limit', NULL),
       CASE WHEN i <= 2 THEN '{SETTLE_ERROR}' END, CASE WHEN i <= 2 THEN '23514' END,
       CASE WHEN i <= 2 THEN '{SETTLE_CONTEXT}' END
  FROM generate_series(1, 8) AS i
UNION ALL
SELECT 'expire_content', 'succeeded', true, 120, 1, 800, now() - interval '2 days',
       now() - interval '2 days', 'pg_cron', '{{}}', NULL, NULL, NULL;
DO $$ BEGIN
    EXECUTE (SELECT format('ALTER FUNCTION %s SET work_mem = %L', p.oid::regprocedure, '8MB')
               FROM pg_proc AS p WHERE p.oid = 'jobs.cleanup'::regproc);
END $$;
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log: Path

    def stop(self) -> str:
        """Stop the server (Ctrl-C) and return what it printed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.log.read_text()


def get(url: str, headers: dict | None = None) -> tuple[int, dict, str]:
    """One request, redirects not followed: status, headers, body."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def start_server(dsn: str, log: Path, *args: str, env: dict | None = None) -> Server:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEPLOYER_DASHBOARD_TOKEN")}
    environ.update(DEPLOYER_ENV="test", DATABASE_URL=dsn, **(env or {}))
    out = log.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "deployer.cli", "dashboard", "--port", str(port), *args],
                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environ)
    server = Server(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the dashboard exited {proc.returncode}: {log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise AssertionError(f"the dashboard did not listen within 30 s: {log.read_text()}")


@pytest.fixture(scope="module")
def history_db(admin_dsn: str, template_dsn: str) -> Iterator[str]:
    """A database with the job set deployed and a week of seeded history (SEED), and
    calculate_badges running for five minutes now: its row's backend is a session held open."""
    with fresh_database(admin_dsn) as (_, dsn):
        with psycopg.connect(dsn, autocommit=True) as conn, psycopg.connect(dsn, autocommit=True) as runner:
            conn.execute(SEED)
            pid, start = runner.execute("SELECT pid, backend_start FROM pg_stat_activity"
                                        " WHERE pid = pg_backend_pid()").fetchone()
            conn.execute("INSERT INTO jobs.job_executions (job_name, status, backend_pid, backend_start, executed_at,"
                         " params, executed_by) VALUES ('calculate_badges', 'running', %s, %s,"
                         " now() - interval '5 minutes', '{}', 'pg_cron')", (pid, start))
            yield dsn


@pytest.fixture(scope="module")
def dashboard(history_db: str, tmp_path_factory) -> Iterator[Server]:
    server = start_server(history_db, tmp_path_factory.mktemp("dashboard") / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A page with every console error and uncaught exception it raised."""
    page: object
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def tab(browser) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1240, "height": 900})
    page = context.new_page()
    tab = Tab(page)
    page.on("console", lambda m: tab.errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.errors.append(f"pageerror: {e}"))
    yield tab
    context.close()


def visit(tab: Tab, url: str, status: int = 200):
    answer = tab.page.goto(url)
    assert answer.status == status, answer.text()
    return tab.page


def rows(conn_dsn: str, sql: str, *args) -> list[dict]:
    with psycopg.connect(conn_dsn, row_factory=dict_row) as conn:
        return conn.execute(sql, args).fetchall()


# -- the pages -----------------------------------------------------------------------------------

def test_jobs_page_lists_every_job_with_its_health_as_colour_and_word(dashboard, history_db, tab, test_manifest):
    page = visit(tab, dashboard.url + "/")
    listed = page.eval_on_selector_all("tr[data-job]", "rs => rs.map(r => [r.dataset.job, r.dataset.state])")
    assert [job for job, _ in listed] == list(test_manifest.jobs)
    states = dict(listed)
    assert (states["rollup_stats"], states["settle_games"], states["expire_content"], states["cleanup"],
            states["reset_bankrolls"], states["calculate_badges"]) == (
        "healthy", "failing", "overdue", "drifted", "never ran", "running")
    colours = {}
    for job, word in (("rollup_stats", "healthy"), ("settle_games", "failing (2 in a row)"),
                      ("expire_content", "overdue"), ("cleanup", "drifted"), ("reset_bankrolls", "never ran"),
                      ("calculate_badges", "running for 5 min")):
        badge = page.locator(f'tr[data-job="{job}"] .badge')
        assert badge.inner_text().strip() == word
        colours[job] = badge.evaluate("b => getComputedStyle(b).color")
    assert len(set(colours.values())) == 6, colours  # each state its own colour, besides its word
    assert colours["settle_games"] == "rgb(180, 35, 24)"
    settle = page.locator('tr[data-job="settle_games"]').inner_text()
    assert "Every 30 minutes" in settle and "*/30 * * * *" in settle and SETTLE_ERROR[:40] in settle
    assert "failed" in settle and "ago" in settle
    assert page.locator('tr[data-job="expire_content"]').inner_text().count("a run was due") == 1
    assert "by postgres, release " in page.locator("#last-deploy").inner_text()
    assert history_db not in page.content()
    assert tab.errors == []


def test_a_job_page_charts_one_mark_per_run_in_the_window(dashboard, history_db, tab):
    page = visit(tab, dashboard.url + "/jobs/rollup_stats")
    in_week = [r["id"] for r in rows(history_db, "SELECT id FROM jobs.job_executions WHERE job_name = 'rollup_stats'"
                                                 " AND executed_at >= now() - interval '7 days' ORDER BY id")]
    assert len(in_week) == 12
    marks = page.eval_on_selector_all("svg.chart circle.mark",
                                      "cs => cs.map(c => [+c.dataset.runId, c.dataset.status])")
    assert sorted(m[0] for m in marks) == in_week
    failed = rows(history_db, "SELECT id FROM jobs.job_executions WHERE job_name = 'rollup_stats'"
                              " AND status = 'failed'")[0]["id"]
    assert [m for m in marks if m[1] == "failed"] == [[failed, "failed"]]
    assert page.locator("svg.chart circle.mark.failed").count() == 1
    assert page.locator("svg.chart line.fail-line").count() == 1
    assert page.locator("#window-count").inner_text() == "12"
    assert page.locator("svg.chart rect.bar").count() == 12
    month = visit(tab, dashboard.url + "/jobs/rollup_stats?days=30")
    assert month.locator("svg.chart circle.mark").count() == 14
    # The failed run, its error and SQLSTATE; the SQL as deployed, no drift.
    failure = page.locator(f'tr[data-failure-of="{failed}"]').inner_text()
    assert "SQLSTATE 55P03" in failure and "lock timeout" in failure
    verdict = page.locator("#sql-verdict").inner_text()
    assert "No drift" in verdict and "The manifest renders jobs/rollup_stats.sql as deployed on" in verdict
    assert 'CREATE OR REPLACE FUNCTION "jobs"."rollup_stats"(' in page.locator("pre.sql").inner_text()
    assert tab.errors == []


def test_a_failed_run_shows_its_error_sqlstate_and_origin_and_drift_shows_the_catalog(dashboard, tab):
    page = visit(tab, dashboard.url + "/jobs/settle_games")
    failures = page.locator("tr.failure")
    assert failures.count() == 2
    text = failures.first.inner_text()
    assert SETTLE_ERROR in text and "SQLSTATE 23514" in text and SETTLE_CONTEXT in text
    latest = page.locator("table.runs tbody tr[data-run-id]").first.inner_text()
    assert "failed" in latest and '"limit": null' in latest and "pg_cron" in latest
    assert page.locator("svg.chart circle.mark").count() == 8
    assert page.locator("svg.chart circle.mark.failed").count() == 2
    drifted = visit(tab, dashboard.url + "/jobs/cleanup")
    verdict = drifted.locator("#sql-verdict").inner_text()
    assert "Drifted" in verdict and "changed by hand" in verdict and "jobs.cleanup(" in verdict
    assert "work_mem" in drifted.locator("pre.sql").first.inner_text()  # the catalog's definition now
    assert drifted.locator("h1 .badge").inner_text().strip() == "drifted"
    assert tab.errors == []


def test_every_page_loads_without_console_errors_and_an_unknown_job_is_404(dashboard, tab, test_manifest):
    for path in ["/", "/live", *(f"/jobs/{job}" for job in test_manifest.jobs), "/jobs/rollup_stats?days=1"]:
        page = visit(tab, dashboard.url + path)  # its stylesheet, icon and script loaded
        if path == "/live":
            page.wait_for_selector("body[data-live=listening]", timeout=5000)
    assert tab.errors == []
    status, headers, body = get(dashboard.url + "/jobs/no_such_job")
    assert status == 404 and "no job named no_such_job" in body
    assert "default-src 'self'" in headers["content-security-policy"]
    status, _, body = get(dashboard.url + "/jobs/rollup_stats?days=0")
    assert status == 400 and "days must be between 1 and 366" in body


def test_a_run_started_elsewhere_appears_on_the_live_page_within_5_seconds(dashboard, history_db, tab):
    page = visit(tab, dashboard.url + "/live")
    page.wait_for_selector("body[data-live=listening]", timeout=5000)
    started = time.monotonic()
    with psycopg.connect(history_db, autocommit=True) as conn:
        conn.execute("CALL jobs.run_job('cleanup_media', p_executed_by => 'the test')")
        run = conn.execute("SELECT max(id) FROM jobs.job_executions WHERE job_name = 'cleanup_media'").fetchone()[0]
    row = page.wait_for_selector(f'tr[data-execution-id="{run}"].succeeded', timeout=5000)
    assert time.monotonic() - started < 5
    text = row.inner_text()
    assert "cleanup_media" in text and "succeeded" in text and "the test" in text
    drawn = page.eval_on_selector_all("#live-runs tr td:nth-child(3)", "cs => cs.map(c => c.innerText)")
    assert drawn and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", t) for t in drawn), drawn
    log = page.locator("#log li").all_inner_texts()
    assert any(f"cleanup_media #{run} started by the test" in line for line in log), log
    assert any(f"cleanup_media #{run} batch 1:" in line for line in log), log
    assert any(f"cleanup_media #{run} succeeded:" in line for line in log), log
    assert tab.errors == []
    # Leaving the page ends the stream, and the server closes its LISTEN session.
    listening = "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'deployer dashboard live'"
    assert rows(history_db, listening)[0]["n"] == 1
    page.goto(dashboard.url + "/")
    deadline = time.monotonic() + 10
    while rows(history_db, listening)[0]["n"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rows(history_db, listening)[0]["n"] == 0


def test_times_stay_on_one_line_and_a_description_shows_its_code(dashboard, tab):
    page = visit(tab, dashboard.url + "/")
    whens = page.eval_on_selector_all(
        ".when", "es => es.map(e => [e.innerText, getComputedStyle(e).whiteSpace, e.getClientRects().length])")
    assert any(text.endswith(" ago") for text, _, _ in whens), whens
    assert all(space == "nowrap" and lines == 1 for _, space, lines in whens), whens
    description = page.locator('tr[data-job="cleanup_media"] td .sub').first
    assert description.locator("code").inner_text() == "deployer media purge"
    assert "`" not in description.inner_text()
    job = visit(tab, dashboard.url + "/jobs/cleanup_media")
    assert job.locator("p.lead code").inner_text() == "deployer media purge"
    assert tab.errors == []


def test_screenshot(dashboard, tab, tmp_path):
    """The README's picture: JOBSET_SCREENSHOT=docs/dashboard.png pytest tests/test_dashboard.py -k screenshot"""
    target = Path(os.environ.get("JOBSET_SCREENSHOT") or tmp_path / "dashboard.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    page = visit(tab, dashboard.url + "/")
    page.screenshot(path=str(target), full_page=True)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert tab.errors == []


# -- the token and the address -------------------------------------------------------------------

def test_with_a_token_every_request_needs_it_and_no_log_line_shows_it(history_db, browser, tmp_path):
    server = start_server(history_db, tmp_path / "server.log", env={"DEPLOYER_DASHBOARD_TOKEN": TOKEN})
    try:
        for path in ("/", "/live", "/live/events", "/jobs/rollup_stats", "/static/style.css"):
            assert get(server.url + path)[0] == 401, path
            assert get(server.url + path, {"Authorization": "Bearer wrong"})[0] == 401, path
        status, _, body = get(server.url + "/", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and 'data-job="rollup_stats"' in body
        status, headers, _ = get(server.url + f"/jobs/rollup_stats?token={TOKEN}&days=30")
        assert status == 303 and headers["location"] == "/jobs/rollup_stats?days=30"
        assert "httponly" in headers["set-cookie"].lower() and "samesite=strict" in headers["set-cookie"].lower()
        context = browser.new_context()
        try:
            page = context.new_page()
            assert page.goto(server.url + "/").status == 401
            answer = page.goto(server.url + f"/?token={TOKEN}")
            assert answer.status == 200 and page.url == server.url + "/"  # the token left the address bar
            assert page.locator("tr[data-job]").count() > 0
            page.goto(server.url + "/live")
            page.wait_for_selector("body[data-live=listening]", timeout=5000)  # the cookie opens the stream too
        finally:
            context.close()
    finally:
        log = server.stop()
    assert server.proc.returncode == 0, log  # Ctrl-C is a clean stop
    assert "GET /jobs/rollup_stats HTTP" in log and " 401" in log  # the access log is on, without queries
    assert TOKEN not in log and history_db not in log


def test_a_non_loopback_host_without_a_token_is_refused(history_db):
    for args, words in ((["--host", "0.0.0.0"], "refusing to serve on 0.0.0.0 (not loopback) without a token"),
                        (["--host", "192.0.2.10"], "without a token"),
                        (["--port", "70000"], "--port must be between 1 and 65535"),
                        (["--token", " "], "the token is empty")):
        result = deployer("dashboard", *args, dsn=history_db)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and words in result.stderr and "Traceback" not in result.stderr
    bad = deployer("dashboard", "--port", str(free_port()),
                   dsn="postgresql://nobody:hunter2@127.0.0.1:1/nowhere?connect_timeout=2")
    assert bad.returncode == 2 and bad.stderr.startswith("error: cannot connect to the database")
    assert "hunter2" not in bad.stderr and "nobody" not in bad.stderr


# -- the session ----------------------------------------------------------------------------------

def test_the_session_is_read_only_and_reads_as_the_monitor_role_with_only_its_rights(admin_dsn, db, conn):
    """With the manifest's monitor role, which the deploy created and this user belongs to,
    the pages read as it, through exactly the rights it has; nothing can be written either way."""
    m = manifest_mod.load(environment="test")
    absent = dataclasses.replace(m, roles={**m.roles, "monitor": f"no_monitor_{os.getpid()}"})
    with data.session(db, absent) as s:  # no such role: the connecting user, read-only
        assert s.role == conn.execute("SELECT current_user AS u").fetchone()["u"]
        assert s.conn.execute("SHOW transaction_read_only").fetchone()["transaction_read_only"] == "on"
    conn.execute("INSERT INTO jobs.job_executions (job_name, status, success, executed_at)"
                 " VALUES ('cleanup', 'failed', false, now())")
    with data.session(db, m) as s:
        assert s.role == m.roles["monitor"] == "jobset_monitor"
        overview = data.jobs_overview(s, m, data.units(m))
        jobs = {j["job"]: j["state"] for j in overview["jobs"]}
        assert jobs["cleanup"] == "failing" and jobs["expire_content"] == "manual"  # deployed without a schedule
        assert overview["deployed"]["deployed_by"] == "postgres"
        detail = data.job_detail(s, m, data.units(m), "cleanup", 7)
        assert len(detail["window"]) == 1 and detail["sql"]["verdict"] == "deployed"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            s.conn.execute("DELETE FROM jobs.job_executions")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # only the monitor's rights
            s.conn.execute("SELECT * FROM public.users LIMIT 1")


def test_the_monitor_reads_health_where_pg_cron_lives_in_the_same_database(db, conn):
    """Where pg_cron lives in the job set's database (the local cluster's `postgres`, Supabase),
    its schema is there and the monitor has no USAGE on it: the pages still read job_health.
    Here a schema shaped as pg_cron's stands in for it, granted to the owner as a deploy does."""
    conn.execute("CREATE SCHEMA cron")
    conn.execute("CREATE TABLE cron.job (jobid bigint, schedule text, command text, database text, username text,"
                 " active boolean, jobname text)")
    conn.execute("CREATE TABLE cron.job_run_details (jobid bigint, status text, start_time timestamptz,"
                 " end_time timestamptz)")
    conn.execute("GRANT USAGE ON SCHEMA cron TO jobset_owner;"
                 " GRANT SELECT ON ALL TABLES IN SCHEMA cron TO jobset_owner")
    conn.execute("UPDATE jobs.job_registry SET scheduled_at = now(),"
                 " cron_command = format('CALL \"jobs\".run_job(%L)', job_name)")
    conn.execute("INSERT INTO cron.job SELECT 1, schedule, cron_command, current_database(), current_user, true,"
                 " 'jobs.' || job_name FROM jobs.job_registry WHERE job_name = 'cleanup'")
    m = manifest_mod.load(environment="test")
    with data.session(db, m) as s:
        assert s.role == "jobset_monitor"
        health = status.job_health(s.conn, s.schema)
        overview = {j["job"]: j["state"] for j in data.jobs_overview(s, m, data.units(m))["jobs"]}
    assert (health["cleanup"]["cron_state"], health["expire_content"]["cron_state"]) == ("scheduled", "missing")
    assert (overview["cleanup"], overview["expire_content"]) == ("never ran", "unscheduled")


def test_the_simulation_page_shows_the_last_picture_or_says_how_to_draw_one(history_db, tab, tmp_path):
    picture = tmp_path / "simulation.svg"
    server = start_server(history_db, tmp_path / "server.log", "--simulation", str(picture))
    try:
        page = visit(tab, server.url + "/simulation")
        assert "deployer simulate --from" in page.inner_text("#no-simulation")
        assert get(server.url + "/simulation.svg")[0] == 404
        picture.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
                           '<circle cx="10" cy="10" r="5" fill="#d62728"/></svg>\n')
        page = visit(tab, server.url + "/simulation")
        assert page.eval_on_selector("#simulation", "img => img.complete && img.naturalWidth") == 40
        status, headers, body = get(server.url + "/simulation.svg")
        assert status == 200 and headers["content-type"] == "image/svg+xml" and "<circle" in body
    finally:
        server.stop()
    assert tab.errors == []
