"""Least privilege (docs/rules.md: The runner): the owner, runner and monitor roles the deployer creates, what
each may do and may not, and PUBLIC and Supabase's API roles refused everything."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from deployer.manifest import ROLES_DEFAULTS
from tests.support import cli as deployer

RUNNER, MONITOR, OWNER = ROLES_DEFAULTS["runner"], ROLES_DEFAULTS["monitor"], ROLES_DEFAULTS["owner"]


def as_role(dsn: str, role: str) -> str:
    info = conninfo_to_dict(dsn)
    info["user"] = role
    return make_conninfo(**info)


def one_line_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.fixture()
def person(conn):
    """A login role that is a member of the monitor role, as an on-call engineer would be."""
    name = f"oncall_{conn.info.dbname[-12:]}".replace("-", "_")
    conn.execute(f"DROP ROLE IF EXISTS {name}")
    conn.execute(f"CREATE ROLE {name} LOGIN IN ROLE {MONITOR}")
    yield name
    conn.execute(f"DROP ROLE IF EXISTS {name}")


def test_the_deployer_creates_three_roles_and_hands_the_schema_to_the_owner(conn):
    roles = {r["rolname"]: r for r in conn.execute(
        "SELECT rolname, rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ANY (%s)",
        ([OWNER, RUNNER, MONITOR],)).fetchall()}
    assert {name: (r["rolcanlogin"], r["rolsuper"]) for name, r in roles.items()} == {
        OWNER: (False, False), RUNNER: (True, False), MONITOR: (False, False)}
    assert roles[OWNER]["rolbypassrls"] is True  # row security must not hide rows from the jobs
    owners = conn.execute(
        "SELECT DISTINCT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relnamespace = 'jobs'::regnamespace"
        " AND relname <> 'storage_objects'"
        " UNION SELECT DISTINCT pg_get_userbyid(proowner) FROM pg_proc WHERE pronamespace = 'jobs'::regnamespace"
        " UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'jobs'").fetchall()
    assert [r["o"] for r in owners] == [OWNER]
    # The one exception: the view through which cleanup_media reads storage.objects stays the
    # deploying role's, and only the owner may read it.
    view = conn.execute("SELECT pg_get_userbyid(relowner) AS o, relacl::text[] AS acl FROM pg_class"
                        " WHERE oid = 'jobs.storage_objects'::regclass").fetchone()
    assert view["o"] == conn.info.user
    assert sorted(a.split("=")[0] for a in view["acl"]) == sorted([conn.info.user, OWNER])
    definers = [r["f"] for r in conn.execute(
        "SELECT proname AS f FROM pg_proc WHERE pronamespace = 'jobs'::regnamespace AND prosecdef ORDER BY 1")]
    assert definers == sorted(["blind_spots", "calculate_badges", "calculate_badges_changes", "catalog_drift",
                               "cleanup", "cleanup_media", "cron_jobs", "expire_content", "reset_bankrolls", "rollup_stats",
                               "run_open", "run_update", "settle_games", "media_url_changed", "media_rows_deleted"])
    run_job = conn.execute("SELECT prosecdef FROM pg_proc WHERE oid = 'jobs.run_job'::regproc").fetchone()
    assert run_job["prosecdef"] is False  # it commits: it cannot be SECURITY DEFINER


def test_the_runner_runs_and_dry_runs_a_job_but_cannot_deploy_nor_write_an_app_table(db, conn):
    runner = as_role(db, RUNNER)
    real = deployer("run", "expire_content", "--json", dsn=runner)
    assert real.returncode == 0, real.stderr
    run = json.loads(real.stdout)
    assert (run["status"], run["dry_run"]) == ("succeeded", False)
    row = conn.execute("SELECT status, executed_by FROM jobs.job_executions WHERE id = %s",
                       (run["execution_id"],)).fetchone()
    assert row["status"] == "succeeded" and row["executed_by"].startswith("deployer:")
    dry = deployer("run", "expire_content", "--dry-run", "--json", dsn=runner)
    assert dry.returncode == 0 and json.loads(dry.stdout)["dry_run"] is True, dry.stderr
    assert deployer("history", "expire_content", "--json", dsn=runner).returncode == 0

    before = conn.execute("SELECT count(*) AS n FROM jobs.deployments").fetchone()["n"]
    refused = deployer("deploy", dsn=runner)
    assert refused.returncode == 2
    assert "may not read cron.database_name" in one_line_error(refused)
    refused = deployer("deploy", "--no-schedule", dsn=runner)
    assert refused.returncode == 2
    assert "permission denied" in one_line_error(refused) and "[SQLSTATE 42501]" in refused.stderr
    assert conn.execute("SELECT count(*) AS n FROM jobs.deployments").fetchone()["n"] == before

    with psycopg.connect(runner, autocommit=True) as direct:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            direct.execute("UPDATE public.posts SET deleted_at = now()")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            direct.execute("UPDATE jobs.job_executions SET status = 'succeeded'")
        with pytest.raises(psycopg.errors.InvalidParameterValue):  # only a running run of its own backend
            direct.execute("SELECT jobs.run_update(%s, 'failed', 0, 0, '{}')", (run["execution_id"],))
    assert conn.execute("SELECT status FROM jobs.job_executions WHERE id = %s",
                        (run["execution_id"],)).fetchone()["status"] == "succeeded"


def test_a_member_of_the_monitor_role_sees_status_but_may_not_run(db, conn, person):
    # No schedules: where pg_cron can run jobs in this database (pg_cron 1.6's
    # schedule_in_database), an hourly job falling due would add runs this test did not make.
    assert deployer("deploy", "--no-schedule", dsn=db).returncode == 0
    monitor = as_role(db, person)
    status = deployer("status", "--json", dsn=monitor)
    report = json.loads(status.stdout)
    assert status.returncode == 0, status.stdout + status.stderr
    # pg_cron lives in another database here, which a monitor may not look up: unknown, not unscheduled.
    assert {(job["state"], job["scheduled"], job["run_as"]) for job in report["jobs"]} == {
        ("manual", None, RUNNER)}
    assert report["jobs"][0]["note"].startswith("pg_cron is not in this database, and this role may not read")
    assert report["healthy"] is True and report["drift"] == [] and report["problems"] == []
    human = deployer("status", dsn=monitor)
    assert human.returncode == 0 and "jobs (jobs.job_health)" in human.stdout
    assert deployer("history", dsn=monitor).returncode == 0

    for args in (["run", "expire_content"], ["run", "expire_content", "--dry-run"]):
        refused = deployer(*args, dsn=monitor)
        assert refused.returncode == 2
        assert "permission denied for" in one_line_error(refused) and "lacks the right" in refused.stderr
    assert conn.execute("SELECT count(*) AS n FROM jobs.job_executions").fetchone()["n"] == 0


def test_public_and_supabase_api_roles_can_execute_nothing_in_the_jobs_schema(db, conn):
    for role in ("anon", "authenticated", "service_role"):
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
            conn.execute(f"CREATE ROLE {role} NOLOGIN")
    # Supabase grants its API roles everything new, by default privileges; the deploy takes it back.
    conn.execute("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO anon, authenticated, service_role")
    conn.execute("ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO anon, authenticated, service_role")
    assert deployer("uninstall", "--force", dsn=db).returncode == 0
    assert deployer("deploy", "--no-schedule", dsn=db).returncode == 0
    routines = conn.execute("SELECT oid, oid::regprocedure::text AS name, prokind FROM pg_proc"
                            " WHERE pronamespace = 'jobs'::regnamespace").fetchall()
    tables = conn.execute("SELECT oid, relname FROM pg_class WHERE relnamespace = 'jobs'::regnamespace"
                          " AND relkind IN ('r', 'v')").fetchall()
    assert len(routines) >= 20 and len(tables) >= 6
    for role in ("public", "anon", "authenticated", "service_role"):
        granted = [r["name"] for r in routines if conn.execute(
            "SELECT has_function_privilege(%s, %s::oid, 'EXECUTE') AS ok", (role, r["oid"])).fetchone()["ok"]]
        readable = [t["relname"] for t in tables if conn.execute(
            "SELECT has_table_privilege(%s, %s::oid, 'SELECT') AS ok", (role, t["oid"])).fetchone()["ok"]]
        usage = conn.execute("SELECT has_schema_privilege(%s, 'jobs', 'USAGE') AS ok", (role,)).fetchone()["ok"]
        assert (role, granted, readable, usage) == (role, [], [], False)
    for role in ("anon", "authenticated"):
        for statement in ("CALL jobs.run_job('expire_content')", "SELECT jobs.expire_content(now(), true)",
                          "SELECT * FROM jobs.job_health", "SELECT jobs.run_open('x', 'running', '{}', NULL, now(), now())"):
            with conn.transaction():
                conn.execute(f"SET LOCAL ROLE {role}")
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    with conn.transaction():
                        conn.execute(statement)


def test_no_roles_needs_them_to_exist_and_says_which_is_missing(db, conn, tmp_path):
    manifest = tmp_path / "jobs.toml"
    from deployer.render import sql_root
    text = (sql_root() / "jobs.toml").read_text().replace('monitor = "jobset_monitor"', 'monitor = "nobody_here"')
    manifest.write_text(text)
    result = deployer("deploy", "--no-roles", "--no-schedule", "--manifest", str(manifest), dsn=db)
    assert result.returncode == 2
    assert one_line_error(result) == ("error: the monitor role 'nobody_here' does not exist: create it, name an "
                                      "existing one in [roles], or deploy without --no-roles")
    assert not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'nobody_here'").fetchone()
