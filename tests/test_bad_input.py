"""The bad-input sweep (docs/rules.md: The deployer): one table of malformed invocations, configs and targets, each
of which gets one clear line on stderr, exit 2, and changes nothing: no row, no role."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from tests import factories, support
from tests.support import cli as deployer

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
HEAD = '[jobs.expire_content]\nschedule = "0 * * * *"\nbatch_size = 5\ntime_budget = "1 minute"\n'
VARS = '[jobs.expire_content.vars]\npick_grace = "3 hours"\nhard_delete_after = "30 days"\n'
JOB = HEAD + VARS

# The manifests: each replaces sql/jobs.toml with --manifest (DEPLOYER_ENV unset).
MANIFESTS = [
    ('[jobs.x\n', "not valid TOML"),
    ('[jobs.expire_content]\nschedule = "61 * * * *"\nbatch_size = 10\ntime_budget = "1 minute"\n',
     "not a valid five-field cron expression"),
    ('[jobs.expire_content]\nschedule = "* * * * * *"\nbatch_size = 10\ntime_budget = "1 minute"\n',
     "not a valid five-field cron expression"),
    ('[jobs.expire_content]\nschedule = "0 * * * *"\nbatch_size = -5\ntime_budget = "1 minute"\n',
     "batch_size must be a positive integer"),
    ('[jobs.expire_content]\nschedule = "0 * * * *"\nbatch_size = 5\ntime_budget = "soon"\n',
     "time_budget must be an interval"),
    ('[jobs.expire_content]\nschedule = "0 * * * *"\nbatch_size = 5\nbatch_time = "fast"\ntime_budget = "1 minute"\n',
     "batch_time must be an interval"),
    ('[jobs.expire_content]\nschedule = "0 * * * *"\nbatch_size = 50\nmax_batch_size = 10\n'
     'time_budget = "1 minute"\n', "min_batch_size <= batch_size <= max_batch_size, not 1 <= 50 <= 10"),
    ('[jobs.no_such_job]\nschedule = "0 * * * *"\nbatch_size = 5\ntime_budget = "1 minute"\n',
     "there is no sql/jobs/no_such_job.sql"),
    ('[settings]\napp_schema = "x; drop table users"\n[jobs.expire_content]\nschedule = "0 * * * *"\n'
     'batch_size = 5\ntime_budget = "1 minute"\n', "app_schema must be a lower-case SQL name"),
    ('[jobs.expire_content]\nschedule = "0 * * * *"\nbatch_size = 5\ntime_budget = "1 minute"\n'
     '[jobs.expire_content.vars]\npick_grace = "banana"\nhard_delete_after = "30 days"\n',
     "an interval must be text such as '3 hours', not 'banana'"),
    ('[jobs.reset_bankrolls]\nschedule = "0 * * * *"\nbatch_size = 5\ntime_budget = "1 minute"\n'
     '[jobs.reset_bankrolls.vars]\nbase_bankroll = -1\nreferral_bonus = 10000\n',
     "expected a whole number >= 0, not -1"),
    ('[jobs.expire_content]\nschedule = "0 * * * *"\nbatch_size = 5\ntime_budget = "1 minute"\n'
     '[jobs.expire_content.vars]\napp_schema = "elsewhere"\n', "'app_schema' is a setting, not a job variable"),
    ("", "no [jobs.<name>] tables"),
    (HEAD + 'batch_size = 6\n' + VARS, "not valid TOML"),  # a duplicate key
    ('[roles]\nadmin = "root"\n' + JOB, "[roles]: unknown key 'admin'"),
    ('[roles]\nowner = "same"\nrunner = "same"\n' + JOB, "three different roles"),
    (JOB.replace('time_budget', 'run_as = "jobset_owner"\ntime_budget'), "must not run a job as the owner role"),
    (JOB.replace('time_budget', 'run_as = "nobody_at_all"\ntime_budget'), "role 'nobody_at_all' does not exist"),
    ('[settings]\ntimezone = "Mars/Olympus"\n' + JOB, "[settings] timezone: 'Mars/Olympus' is not a time zone"),
]

# (args, target, message): target names the database the command is given (see _target).
COMMANDS = [
    (("run", "nope"), "db", "unknown job 'nope'"),
    (("run", "expire_content", "--limit", "-1"), "db", "--limit must be from 0 to 2147483647"),
    (("run", "expire_content", "--limit", "3000000000"), "db", "--limit must be from 0 to 2147483647"),
    (("run", "expire_content", "--limit", "x"), "db", "Invalid value for '--limit'"),
    (("run", "expire_content", "--now", "yesterday"), "db", "is not an ISO 8601 time"),
    (("run", "expire_content", "--nope"), "db", "No such option: --nope"),
    (("history", "nope"), "db", "unknown job 'nope'"),
    (("deploy", "--env", "nowhere"), "db", "unknown environment 'nowhere'"),
    (("seed", "--users", "0"), "db", "--users must be a whole number of at least 1"),
    (("history", "--limit", "0"), "db", "--limit must be 1 or more"),
    (("deploy", "--lock-wait", "forever"), "db", "--lock-wait must look like"),
    (("dashboard", "--host", "0.0.0.0"), "db", "token"),
    (("run", "expire_content", "--dry-run"), "unreachable", "cannot connect"),
    (("run", "expire_content", "--dry-run"), "no answer", "cannot connect"),
    (("run", "expire_content", "--dry-run"), "not a dsn", "invalid connection string"),
    (("status",), "wrong password", "password authentication failed"),
    (("deploy", "--with-app-schema", "--no-schedule"), "standby", "read-only transaction"),
    (("deploy", "--no-schedule"), "read-only database", "read-only transaction"),
    (("deploy",), "no pg_cron", "cannot schedule the jobs: pg_cron is not created in database postgres; "
                                "deploy with --no-schedule"),
    (("deploy", "--no-schedule"), "runner", "permission denied"),
    (("deploy",), "transaction pooler", "port 6543 is Supabase's transaction pooler, through which deploy cannot"),
    (("watch",), "transaction pooler", "use the direct connection or the session pooler (port 5432)"),
    (("run", "expire_content"), "monitor", 'role "jobset_monitor" is not permitted to log in'),
]

CASES = ([pytest.param(("deploy",), "db", message, text, id=f"manifest-{i}")
          for i, (text, message) in enumerate(MANIFESTS)]
         + [pytest.param(args, target, message, None, id=f"{args[0]}-{target}-{i}")
            for i, (args, target, message) in enumerate(COMMANDS)])


def _as(dsn: str, **changes: str) -> str:
    info = conninfo_to_dict(dsn)
    info.update(changes)
    return make_conninfo(**info)


def _target(request, db: str, conn, target: str) -> tuple[str, str]:
    """(the DSN given to the command, a superuser DSN of the database it must leave alone)."""
    if target == "db":
        return db, db
    if target == "read-only database":
        conn.execute(f'ALTER DATABASE "{conn.info.dbname}" SET default_transaction_read_only = on')
        return db, db
    if target in ("runner", "monitor"):
        return _as(db, user=f"jobset_{target}"), db
    if target == "unreachable":
        return "postgresql://postgres@127.0.0.1:1/postgres", db
    if target == "no answer":
        return "postgresql://postgres@127.0.0.1:5/postgres?connect_timeout=1", db
    if target == "not a dsn":
        return "not a dsn at all", db
    if target == "transaction pooler":  # refused before any connection is tried
        return "postgresql://postgres@127.0.0.1:6543/postgres", db
    server = request.getfixturevalue("password_server")
    primary = f"postgresql://postgres@127.0.0.1:{server['port']}/postgres"
    if target == "wrong password":
        return _as(server["with_password"], password="not-the-password"), primary
    if target == "standby":
        return server["standby"], primary
    assert target == "no pg_cron"
    return primary, primary


def _state(dsn: str) -> dict:
    """Every app and job table's digest, and the roles: equal states, nothing changed."""
    with psycopg.connect(dsn, row_factory=dict_row, autocommit=True) as c:
        roles = c.execute("SELECT string_agg(rolname, ',' ORDER BY rolname) AS r FROM pg_roles").fetchone()["r"]
        return {"roles": roles, **factories.digest(c, *support.all_tables(c))}


@pytest.mark.parametrize(("args", "target", "message", "manifest"), CASES)
def test_bad_input_gets_one_line_and_exit_2_and_changes_nothing(request, db, conn, tmp_path, args, target, message,
                                                                manifest):
    factories.expired_posts(conn, NOW, 1)
    given, watched = _target(request, db, conn, target)
    env = None
    if manifest is not None:
        path = tmp_path / "jobs.toml"
        path.write_text(manifest)
        args = (*args, "--manifest", str(path))
        env = {"DEPLOYER_ENV": ""}
    before = _state(watched)
    result = deployer(*args, dsn=given, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert _state(watched) == before
