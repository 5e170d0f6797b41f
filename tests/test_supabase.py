"""The job set where SnapBet lives (README, "Deploying to Supabase"): a database shaped like a
Supabase project (tests/supabase.py), SnapBet's real migrations loaded as `postgres`, which
is not a superuser, row level security on the app's tables, pg_cron the platform's.

As `postgres`, with the default manifest: `deploy --plan` and `deploy` exit 0; each job's
real run equals its dry run and changes the rows it should although row security is on;
and a real pg_cron tick runs a job that succeeds as the runner role."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import manifest as manifest_mod
from deployer import simulate
from deployer.render import sql_root
from tests import supabase_data
from tests.conftest import empty_database
from tests.supabase import missing_libraries, supabase_server
from tests.support import cli

pytestmark = pytest.mark.skipif(bool(missing_libraries()),
                                reason=f"not built here: {', '.join(missing_libraries())} (scripts/build-vendor)")

DEFAULT = {"DEPLOYER_ENV": ""}
JOB_TABLES = ("users", "bankrolls", "bets", "games", "posts", "pick_actions", "stories", "messages", "comments",
              "notifications", "reactions", "chats", "chat_members", "user_badges", "badge_history")  # the default manifest, no test environment
NOW = datetime(2026, 11, 29, 20, 0, tzinfo=timezone.utc)  # a Sunday evening: the week's games are played
MONDAY = datetime(2026, 11, 30, 0, 5, tzinfo=timezone.utc)  # the weekly reset's first run


@pytest.fixture(scope="module")
def supabase():
    with supabase_server() as server:
        yield server


def deploy(server, *args: str, manifest: Path | None = None):
    extra = ("--manifest", str(manifest)) if manifest else ()
    return cli("deploy", *args, *extra, dsn=server.postgres_dsn, env=DEFAULT)


def pause_schedules(conn, active: bool) -> None:
    """Pause (or resume) the job set's pg_cron entries as their owner, postgres; once paused,
    wait until no run pg_cron started is still going."""
    conn.execute("SELECT cron.alter_job(jobid, active => %s) FROM cron.job WHERE jobname LIKE 'jobs.%%'", (active,))
    deadline = time.monotonic() + 300
    while not active and conn.execute(
            "SELECT count(*) AS n FROM cron.job_run_details WHERE status IN ('starting', 'running')").fetchone()["n"]:
        assert time.monotonic() < deadline, "a run pg_cron started did not end"
        time.sleep(0.5)


def test_the_fixture_is_supabase_shaped(supabase):
    with psycopg.connect(supabase.postgres_dsn, row_factory=dict_row) as c:
        me = c.execute("SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user"
                       ).fetchone()
        rls = c.execute("SELECT count(*) FILTER (WHERE relrowsecurity) AS on, count(*) AS n FROM pg_class"
                        " WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
                        " AND relname = ANY (%s)", (list(JOB_TABLES),)).fetchone()
    assert me == {"rolsuper": False, "rolcreaterole": True, "rolbypassrls": True}
    assert rls == {"on": len(JOB_TABLES), "n": len(JOB_TABLES)}


def test_deploy_as_postgres_then_every_job_runs_as_its_dry_run_said_under_row_security(supabase, tmp_path):
    plan = deploy(supabase, "--plan")
    assert plan.returncode == 0, plan.stderr
    assert "would create role jobset_owner (owner)" in plan.stdout
    assert "would give role jobset_owner BYPASSRLS" in plan.stdout
    done = deploy(supabase)
    assert done.returncode == 0, done.stderr
    again = deploy(supabase, "--plan")
    assert (again.returncode, again.stdout.strip()) == (0, "no changes"), again.stderr

    with psycopg.connect(supabase.admin_dsn, row_factory=dict_row) as admin:
        roles = {r["rolname"]: r for r in admin.execute(
            "SELECT rolname, rolbypassrls, rolcreaterole, rolsuper FROM pg_roles WHERE rolname LIKE 'jobset_%'")}
        cron = admin.execute("SELECT jobname, username, command FROM cron.job ORDER BY jobname").fetchall()
        runner_owns = admin.execute("SELECT count(*) AS n FROM pg_class WHERE relowner = 'jobset_runner'::regrole"
                                    ).fetchone()["n"]
    assert roles["jobset_owner"]["rolbypassrls"] is True  # supautils let postgres give it
    assert {k: v for k, v in roles["jobset_runner"].items() if k != "rolname"} == {
        "rolbypassrls": False, "rolcreaterole": False, "rolsuper": False} and runner_owns == 0
    default = manifest_mod.load()
    assert [j["jobname"] for j in cron] == sorted(f"jobs.{n}" for n, j in default.jobs.items() if j.enabled)
    assert {j["username"] for j in cron} == {"postgres"}
    assert all('SET ROLE "jobset_runner"; CALL "jobs".run_job(' in j["command"] for j in cron)

    # The default schedules fire on the real clock: pg_cron must not run a job at today's
    # time while this test runs them at NOW, so they pause until the health check.
    with psycopg.connect(supabase.postgres_dsn, autocommit=True, row_factory=dict_row) as c:
        pause_schedules(c, active=False)
        data = supabase_data.load(c, NOW)
    for job in manifest_mod.run_order(default):
        at = (MONDAY if job == "reset_bankrolls" else NOW).isoformat()
        dry = cli("run", job, "--dry-run", "--json", "--now", at, dsn=supabase.postgres_dsn, env=DEFAULT)
        assert dry.returncode == 0, dry.stderr
        real = cli("run", job, "--force", "--json", "--now", at, dsn=supabase.postgres_dsn, env=DEFAULT)
        assert real.returncode == 0, real.stderr
        d, r = json.loads(dry.stdout), json.loads(real.stdout)
        assert r["status"] == "succeeded"
        assert (r["affected"], r["details"]) == (d["affected"], d["details"]), job
        assert r["affected"] > 0, job  # every job had work in the data, and saw it through row security

    with psycopg.connect(supabase.postgres_dsn, autocommit=True, row_factory=dict_row) as c:
        def gone(table, ids):  # soft-deleted (deleted_at set) or deleted
            return {label: (c.execute(f"SELECT deleted_at IS NOT NULL AS d FROM public.{table} WHERE id = %s",
                                      (i,)).fetchone() or {"d": "deleted"})["d"] for label, i in ids.items()}
        assert gone("posts", data.posts) == {
            "content_expired": True, "content_live": False, "content_deleted_40d": "deleted", "pick_4h": True,
            "pick_1h": False, "pick_scheduled": False, "outcome_expired": True}
        assert gone("stories", data.stories) == {"expired": True, "live": False, "deleted_10d": True}
        assert gone("messages", data.messages) == {"dm_expired": True, "dm_live": False, "group_expired": True,
                                                   "group_live": False}
        bets = {label: c.execute("SELECT status::text AS s FROM public.bets WHERE id = %s", (i,)).fetchone()["s"]
                for label, i in data.bets.items()}
        assert {k: bets[k] for k in ("spread_pending", "total_pending", "moneyline_pending", "push_pending",
                                     "cancelled_pending", "scheduled_pending")} == {
            "spread_pending": "won", "total_pending": "won", "moneyline_pending": "lost", "push_pending": "push",
            "cancelled_pending": "cancelled",  # refunded by settle_games
            "scheduled_pending": "cancelled"}  # the weekly reset cancels what is still pending
        notifications = {r["id"] for r in c.execute("SELECT id FROM public.notifications")}
        assert data.notifications["old_31d"] not in notifications and data.notifications["new_1d"] in notifications
        chats = {r["id"] for r in c.execute("SELECT id FROM public.chats")}
        assert data.chats["group_empty_2h"] not in chats and data.chats["group_empty_30m"] in chats
        resets = {r["last_reset"] >= MONDAY.replace(minute=0) for r in c.execute("SELECT last_reset FROM public.bankrolls")}
        assert resets == {True}
        queued = {r["name"] for r in c.execute("SELECT bucket_id || '/' || name AS name FROM jobs.media_purge_queue")}
        assert {"posts/orphan.jpg", "messages/orphan.jpg", "stories/orphan.mp4", "avatars/old_alice.jpg"} <= queued
        assert not queued & {"avatars/alice.jpg", "messages/group_expired.jpg", "posts/orphan_new.jpg"}
        runs = c.execute("SELECT DISTINCT run_as FROM jobs.job_executions WHERE executed_by <> 'pg_cron'").fetchall()
        journal = {r["url"] for r in c.execute("SELECT url FROM jobs.media_dropped")}
        # expire_content's hard delete of carol's post journaled the URLs it held
        assert {supabase_data.url("posts", "content_deleted_40d.jpg"),
                supabase_data.url("posts", "content_deleted_40d_thumb.jpg")} <= journal
        pause_schedules(c, active=True)
        health = {r["job_name"]: r["state"] for r in c.execute("SELECT job_name, state, blind_tables FROM jobs.job_health")}

    # The app's own role, under row security and with no right on the job set's schema, fires
    # cleanup_media's triggers: bob deletes his post, alice changes her avatar.
    with psycopg.connect(supabase.admin_dsn, autocommit=True, row_factory=dict_row) as app:
        app.execute("SET ROLE authenticated")
        for who, statement in (("bob", "DELETE FROM public.posts WHERE id = %s"),
                               ("alice", "UPDATE public.users SET avatar_url = avatar_url || '?v=2' WHERE id = %s")):
            app.execute("SELECT set_config('request.jwt.claims', %s, false)",
                        (json.dumps({"sub": str(data.users[who]), "role": "authenticated"}),))
            target = data.posts["content_live"] if who == "bob" else data.users[who]
            assert app.execute(statement, (target,)).rowcount == 1
        assert not app.execute("SELECT has_schema_privilege('jobs', 'USAGE') AS u").fetchone()["u"]
    with psycopg.connect(supabase.postgres_dsn, row_factory=dict_row) as c:
        added = {r["url"] for r in c.execute("SELECT url FROM jobs.media_dropped")} - journal
    assert added == {supabase_data.url("posts", "content_live.jpg"), supabase_data.url("posts", "content_live_thumb.jpg"),
                     supabase_data.url("avatars", "alice.jpg")}
    assert runs == [{"run_as": "postgres"}]  # by hand, as the person who ran them
    assert set(health.values()) == {"healthy"}, health

    # The files the queue names are purged, and their storage rows deleted despite Storage's
    # guard against direct deletes.
    for name in queued:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    purge = cli("media", "purge", "--root", str(tmp_path), "--json", dsn=supabase.postgres_dsn, env=DEFAULT)
    assert purge.returncode == 0, purge.stderr
    with psycopg.connect(supabase.postgres_dsn, row_factory=dict_row) as c:
        left = c.execute("SELECT count(*) AS n FROM storage.objects AS o JOIN jobs.media_purge_queue AS q"
                         " ON q.object_id = o.id").fetchone()["n"]
    assert left == 0 and not any((tmp_path / name).exists() for name in queued)


def test_job_health_reads_pg_cron_s_own_entry_and_status_shows_the_view_s_state(supabase):
    """pg_cron lives in the app's database here, so the view judges each job's entry itself:
    paused, missing, another schedule; `status` shows that state, and deploy puts it back."""
    assert deploy(supabase).returncode == 0

    def states() -> dict:
        with psycopg.connect(supabase.postgres_dsn, autocommit=True, row_factory=dict_row) as c:
            return {r["job_name"]: (r["state"], r["cron_state"])
                    for r in c.execute("SELECT job_name, state, cron_state FROM jobs.job_health")}

    assert {cron for _, cron in states().values()} == {"scheduled"}
    with psycopg.connect(supabase.postgres_dsn, autocommit=True) as c:  # as postgres, whose entries they are
        c.execute("SELECT cron.alter_job(jobid, active => false) FROM cron.job WHERE jobname = 'jobs.cleanup'")
        c.execute("SELECT cron.unschedule('jobs.cleanup_media')")
        c.execute("SELECT cron.alter_job(jobid, schedule => '7 7 * * *') FROM cron.job"
                  " WHERE jobname = 'jobs.reset_bankrolls'")
    now = states()
    assert (now["cleanup"], now["cleanup_media"], now["reset_bankrolls"]) == (
        ("unscheduled", "paused"), ("unscheduled", "missing"), ("drifted", "differs"))
    status = cli("status", "--json", dsn=supabase.postgres_dsn, env=DEFAULT)
    assert status.returncode == 1
    report = json.loads(status.stdout)
    assert {j["job"]: j["state"] for j in report["jobs"]} == {job: state for job, (state, _) in now.items()}
    assert "cleanup: not scheduled: paused in pg_cron (active = false); `deployer deploy` schedules it again" \
        in report["problems"]
    assert "cleanup_media: not scheduled: missing from pg_cron; `deployer deploy` schedules it again" \
        in report["problems"]
    assert any(p.startswith("drift: cron job jobs.reset_bankrolls schedule changed: '7 7 * * *'")
               for p in report["problems"])
    assert deploy(supabase).returncode == 0
    assert {cron for _, cron in states().values()} == {"scheduled"}
    assert cli("status", dsn=supabase.postgres_dsn, env=DEFAULT).returncode == 0


def test_a_simulation_copies_the_supabase_database_and_leaves_it_unchanged(supabase, admin_dsn):
    """pg_dump as `postgres` (not a superuser, row security on) reads it; the copy, without
    Supabase's roles, owners, policies and pg_cron, runs every fire; nothing changes here."""
    default = manifest_mod.load()
    assert deploy(supabase).returncode == 0
    with psycopg.connect(supabase.postgres_dsn, autocommit=True, row_factory=dict_row) as c:
        pause_schedules(c, active=False)  # no real tick may change the source while it is compared
    try:
        before = simulate.table_checksums(supabase.postgres_dsn, ["public", "storage", "jobs"])
        rules = simulate.check_source(supabase.postgres_dsn, default)
        with empty_database(admin_dsn) as into:
            sim = simulate.simulate(supabase.postgres_dsn, default, NOW, NOW + timedelta(hours=6),
                                    simulate.chosen(default, None), rules, into=into)
        assert simulate.table_checksums(supabase.postgres_dsn, ["public", "storage", "jobs"]) == before
    finally:
        with psycopg.connect(supabase.postgres_dsn, autocommit=True, row_factory=dict_row) as c:
            pause_schedules(c, active=True)
    assert len(sim.steps) == 36 and sim.failed() == []


@pytest.mark.slow
def test_a_real_pg_cron_tick_runs_a_job_as_the_runner_role(supabase, tmp_path):
    text = (sql_root() / "jobs.toml").read_text()
    every_minute = text.replace('schedule = "0 * * * *"\nenabled = true\nbatch_size = 5000',
                                'schedule = "* * * * *"\nenabled = true\nbatch_size = 5000', 1)
    assert every_minute != text
    path = tmp_path / "jobs.toml"
    path.write_text(every_minute)
    done = deploy(supabase, manifest=path)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 130
    row = None
    with psycopg.connect(supabase.postgres_dsn, autocommit=True, row_factory=dict_row) as c:
        while time.monotonic() < deadline and row is None:
            row = c.execute("SELECT status, run_as, executed_by FROM jobs.job_executions"
                            " WHERE executed_by = 'pg_cron' AND status <> 'running' ORDER BY id LIMIT 1").fetchone()
            time.sleep(1)
    assert row == {"status": "succeeded", "run_as": "jobset_runner", "executed_by": "pg_cron"}
    with psycopg.connect(supabase.admin_dsn, row_factory=dict_row) as admin:
        details = admin.execute("SELECT d.status, d.username FROM cron.job_run_details AS d JOIN cron.job AS j"
                                " USING (jobid) WHERE j.jobname = 'jobs.expire_content' ORDER BY d.runid LIMIT 1"
                                ).fetchone()
    assert details == {"status": "succeeded", "username": "postgres"}
    assert deploy(supabase).returncode == 0  # the default schedule again
