"""The rights a deploy needs (README, "Deploying to Supabase"): a deploying role that is not a
superuser, on a fresh cluster where pg_cron lives in another database than the app. With
every right, `deploy --plan` and `deploy` succeed and pg_cron's command runs the job as the
runner role. Without one of them, in turn, `deploy --plan` and `deploy` each exit 2 naming
it, with how to grant it, and the deploy changes nothing.

The cluster is the tests' own (module scope): roles are the cluster's, so each test names
its roles, deploying role and database apart."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from deployer import install, local, manifest
from deployer.db import dsn_for_database
from deployer.render import sql_root
from tests.support import cli

_n = itertools.count(1)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A fresh cluster: pg_cron in `postgres`, none of the job set's roles."""
    with local.throwaway("jobset-rights-", 58532) as cluster:
        yield cluster.url()


def major(server: str) -> int:
    with psycopg.connect(server) as c:
        return int(c.execute("SHOW server_version_num").fetchone()[0]) // 10000


# What PostgreSQL says when a role with CREATEROLE but not BYPASSRLS gives another BYPASSRLS:
# 16 lets a role that has BYPASSRLS give it, and words the refusal as any other.
def bypassrls_refusal(server: str) -> str:
    return "must be superuser to change bypassrls attribute" if major(server) < 16 else "permission denied to alter role"


@dataclass
class Case:
    admin: str  # superuser, in the app's database
    dsn: str  # the deploying role, in the app's database
    role: str
    database: str
    manifest: Path
    roles: dict[str, str]

    def deploy(self, *args: str):
        return cli("deploy", *args, "--manifest", str(self.manifest), dsn=self.dsn)

    def changed(self) -> dict:
        """What a deploy leaves: the jobs schema, the job set's roles, pg_cron jobs for the database."""
        with psycopg.connect(self.admin, autocommit=True, row_factory=dict_row) as c:
            schema = c.execute("SELECT to_regnamespace('jobs') IS NOT NULL AS s").fetchone()["s"]
            roles = [r["rolname"] for r in c.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY (%s)"
                                                     " ORDER BY 1", (list(self.roles.values()),))]
        with psycopg.connect(dsn_for_database(self.admin, "postgres"), row_factory=dict_row) as c:
            cron = c.execute("SELECT count(*) AS n FROM cron.job WHERE database = %s", (self.database,)).fetchone()["n"]
        return {"schema": schema, "roles": roles, "cron": cron}


def make_case(server: str, tmp_path: Path, *, db_owner: bool = True, createrole: bool = True,
              owner_bypassrls: bool | None = True, cron_execute: bool = True) -> Case:
    """A database shaped like an app's: its tables owned by the deploying role (as migrations
    run by it leave them), pg_cron in `postgres` with Supabase's grants to that role.
    owner_bypassrls: the job set's owner role made beforehand by a superuser, with or
    without BYPASSRLS (None: not made). On PostgreSQL 16 and later that superuser also makes
    the deploying role a member of it, as the deploy's refusal says to (a role with
    CREATEROLE may grant only the roles it holds WITH ADMIN OPTION: those it created itself);
    on 15 the deploying role grants itself that membership."""
    n = next(_n)
    role, database = f"deployer_{n}", f"app_{n}"
    roles = {"owner": f"owner_{n}", "runner": f"runner_{n}", "monitor": f"monitor_{n}"}
    text = (sql_root() / "jobs.toml").read_text()
    for purpose, name in roles.items():
        text = text.replace(f'{purpose} = "jobset_{purpose}"', f'{purpose} = "{name}"')
    path = tmp_path / "jobs.toml"
    path.write_text(text)
    assert manifest.load(path).roles == roles
    with psycopg.connect(server, autocommit=True) as c:
        c.execute(f"CREATE ROLE {role} LOGIN {'CREATEROLE' if createrole else ''} IN ROLE pg_read_all_settings")
        c.execute(f"CREATE DATABASE {database} OWNER {role}")
        c.execute(f"GRANT USAGE ON SCHEMA cron TO {role}")
        c.execute(f"GRANT SELECT ON cron.job TO {role}")
        if cron_execute:
            c.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA cron TO {role}")
        if owner_bypassrls is not None:
            c.execute(f"CREATE ROLE {roles['owner']} NOLOGIN {'BYPASSRLS' if owner_bypassrls else ''}")
            if major(server) >= 16:
                c.execute(f"GRANT {roles['owner']} TO {role}")
    admin = dsn_for_database(server, database)
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA storage AUTHORIZATION {role}")
    dsn = make_conninfo(admin, user=role)
    with psycopg.connect(dsn, autocommit=True) as c:
        install.install_app_schema(c, manifest.load(path).template_vars())
    if not db_owner:  # its tables stay its own; the database (and CREATE on it) is another's
        with psycopg.connect(server, autocommit=True) as c:
            c.execute(f"ALTER DATABASE {database} OWNER TO postgres")
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {role}")
    return Case(admin, dsn, role, database, path, roles)


def errors(result) -> list[str]:
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return [line.removeprefix("error: ") for line in lines]


def refused(case: Case, expected: list[str]) -> None:
    """--plan and deploy each exit 2 with exactly these lines (as regular expressions); the
    deploy changed nothing."""
    before = case.changed()
    plan = case.deploy("--plan")
    assert plan.returncode == 2, plan.stderr
    lines = errors(plan)
    assert len(lines) == len(expected), lines
    for line, pattern in zip(lines, expected):
        assert re.search(pattern, line), (pattern, line)
    deploy = case.deploy()
    assert (deploy.returncode, errors(deploy)) == (2, lines)
    assert case.changed() == before


def test_a_first_deploy_by_a_role_that_is_not_a_superuser_into_a_database_pg_cron_does_not_live_in(server, tmp_path):
    case = make_case(server, tmp_path, owner_bypassrls=None)
    # No superuser made the owner: this role cannot give it BYPASSRLS, and the tables the
    # job set creates in the app's schema (user_stats, user_effect_tiers) have row security.
    # The deploy refuses rather than install jobs that would see none of their rows.
    refused(case, [rf"^row level security hides rows of public.user_effect_tiers, public.user_stats from role "
                   rf"{case.roles['owner']}, the role the jobs run as: they would see none of them and do nothing: "
                   rf"as a superuser, ALTER ROLE \"{case.roles['owner']}\" BYPASSRLS \(the deploying role may not "
                   rf"give it that: {bypassrls_refusal(server)}\)$"])
    assert case.changed() == {"schema": False, "roles": [], "cron": 0}

    owner = case.roles["owner"]
    with psycopg.connect(case.admin, autocommit=True) as c:
        c.execute(f"CREATE ROLE {owner} NOLOGIN BYPASSRLS")
    if major(server) >= 16:
        # A role another made: this one, not holding it WITH ADMIN OPTION, may not join it.
        refused(case, [rf"^cannot grant role {owner} to the deploying role \(to hand it the jobs schema\) "
                       rf"\(permission denied to grant role \"{owner}\"\): as a superuser, GRANT \"{owner}\" "
                       rf"TO \"{case.role}\"$"])
        with psycopg.connect(case.admin, autocommit=True) as c:
            c.execute(f"GRANT {owner} TO {case.role}")
    plan = case.deploy("--plan")
    assert plan.returncode == 0, plan.stderr
    assert f"would create role {case.roles['runner']} (runner)" in plan.stdout
    member = f"would grant role {owner} to the deploying role (to hand it the jobs schema)"
    assert (member in plan.stdout) == (major(server) < 16), plan.stdout
    deploy = case.deploy()
    assert deploy.returncode == 0, deploy.stderr
    assert case.changed() == {"schema": True, "roles": sorted(case.roles.values()), "cron": 7}
    again = case.deploy("--plan")
    assert (again.returncode, again.stdout.strip()) == (0, "no changes"), again.stderr

    # pg_cron logs in as the deploying role and runs the command as one statement; it
    # switches to the runner role, whose run succeeds and is recorded as the runner's.
    with psycopg.connect(dsn_for_database(server, "postgres"), row_factory=dict_row) as c:
        job = c.execute("SELECT username, command FROM cron.job WHERE jobname = %s",
                        (f"jobs.expire_content@{case.database}",)).fetchone()
    assert job["username"] == case.role
    assert job["command"] == (f'DO $jobset$BEGIN SET ROLE "{case.roles["runner"]}"; CALL "jobs".run_job('
                              "'expire_content', p_executed_by => 'pg_cron'); END$jobset$")
    with psycopg.connect(case.dsn, autocommit=True, row_factory=dict_row) as c:
        c.execute(job["command"])
        c.execute("RESET ROLE")
        run = c.execute("SELECT status, run_as, executed_by FROM jobs.job_executions").fetchone()
        attributes = c.execute("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = %s",
                               (case.roles["runner"],)).fetchone()
        owns = c.execute("SELECT count(*) AS n FROM pg_class WHERE relowner = %s::regrole",
                         (case.roles["runner"],)).fetchone()["n"]
    assert run == {"status": "succeeded", "run_as": case.roles["runner"], "executed_by": "pg_cron"}
    assert attributes == {"rolsuper": False, "rolbypassrls": False, "rolcreaterole": False} and owns == 0


def test_without_create_on_the_database(server, tmp_path):
    case = make_case(server, tmp_path, db_owner=False)
    refused(case, [rf"^role {case.role} may not create schemas in database {case.database}: "
                   rf"GRANT CREATE ON DATABASE \"{case.database}\" TO \"{case.role}\"$"])


def test_without_createrole_the_missing_roles_are_named(server, tmp_path):
    case = make_case(server, tmp_path, createrole=False)
    # On 16 and later the superuser who made the owner made this role a member (make_case).
    refused(case, [rf"^cannot create role {case.roles[p]} \({p}\) \(permission denied to create role\): as a "
                   rf"superuser, CREATE ROLE \"{case.roles[p]}\" .*ALTER ROLE \"{case.role}\" CREATEROLE$"
                   for p in ("runner", "monitor")]
            + [rf"^cannot grant role {case.roles['owner']} to the deploying role \(to hand it the jobs schema\) "
               rf".*GRANT \"{case.roles['owner']}\" TO \"{case.role}\"$"] * (major(server) < 16))


def test_without_the_right_to_schedule_with_pg_cron(server, tmp_path):
    case = make_case(server, tmp_path, cron_execute=False)
    # (cron.unschedule is PUBLIC's in pg_cron; it refuses another role's job by itself.)
    refused(case, [rf"^role {case.role} may not schedule jobs with pg_cron in database postgres: GRANT USAGE ON "
                   rf"SCHEMA cron TO \"{case.role}\"; GRANT EXECUTE ON FUNCTION "
                   rf"cron.schedule_in_database\(text,text,text,text,text,boolean\) TO \"{case.role}\"$"])


def test_without_the_grant_option_on_an_app_table(server, tmp_path):
    case = make_case(server, tmp_path)
    with psycopg.connect(case.admin, autocommit=True) as c:  # a table another role owns, shared without grant option
        c.execute("ALTER TABLE public.games OWNER TO postgres")
        c.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON public.games TO {case.role}")
    refused(case, [rf"^role {case.role} may not grant SELECT, INSERT, UPDATE, DELETE on games to "
                   rf"{case.roles['owner']}: GRANT SELECT, INSERT, UPDATE, DELETE ON games TO \"{case.role}\" "
                   rf"WITH GRANT OPTION \(as its owner\)"])


def test_an_owner_role_made_beforehand_without_bypassrls_is_refused(server, tmp_path):
    case = make_case(server, tmp_path, owner_bypassrls=False)
    refused(case, [rf"^row level security hides rows of .*public.user_stats from role {case.roles['owner']}"])


def test_row_security_that_hides_rows_later_is_flagged_and_every_run_refuses(db, conn, test_manifest):
    """After a deploy: the owner loses BYPASSRLS and a table gets row security. Health says
    so (state blind, status exits 1 naming the table), and runs, dry or real, fail loudly
    instead of succeeding with nothing done."""
    owner = test_manifest.roles["owner"]
    conn.execute("ALTER TABLE public.posts ENABLE ROW LEVEL SECURITY")
    conn.execute(f"ALTER ROLE {owner} NOBYPASSRLS")
    try:
        states = {r["job_name"]: (r["state"], r["blind_tables"])
                  for r in conn.execute("SELECT job_name, state, blind_tables FROM jobs.job_health")}
        blind = ["public.posts", "public.user_effect_tiers", "public.user_stats"]
        assert states == {job: ("blind", blind) for job in test_manifest.jobs}
        status = cli("status", "--json", dsn=db)
        assert status.returncode == 1
        problem = json_first_problem(status.stdout)
        assert problem.startswith(f"blind: row level security hides rows of {', '.join(blind)} from role {owner}")
        dry = cli("run", "expire_content", "--dry-run", "--json", dsn=db)
        real = cli("run", "expire_content", "--force", "--json", dsn=db)
        # A dry run is refused for the missing right (exit 2), a real run fails as a run (exit 1).
        for result, code in ((dry, 2), (real, 1)):
            assert result.returncode == code, result.stderr
            assert "row level security hides rows of public.posts" in result.stdout + result.stderr
        assert f"as a superuser: ALTER ROLE {owner} BYPASSRLS" in dry.stderr
        row = conn.execute("SELECT status, sqlstate FROM jobs.job_executions ORDER BY id DESC LIMIT 1").fetchone()
        assert row == {"status": "failed", "sqlstate": "42501"}
    finally:
        conn.execute(f"ALTER ROLE {owner} BYPASSRLS")
    assert conn.execute("SELECT state FROM jobs.job_health WHERE job_name = 'expire_content'").fetchone()["state"] \
        == "failing"  # seeing again; its last run failed until the next one succeeds


def json_first_problem(stdout: str) -> str:
    import json

    return json.loads(stdout)["problems"][0]
