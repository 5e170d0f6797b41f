"""The bad-input sweep (docs/rules.md: The deployer): one table of malformed invocations, configs and targets, each
of which gets one clear line on stderr, exit 2, and changes nothing: no row, no role."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from deployer import local
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
     '[jobs.expire_content.vars]\npick_grace = "3 hours"\nhard_delete_after = "3 horas"\n',
     "[jobs.expire_content.vars] hard_delete_after: an interval must be text such as '3 hours', not '3 horas'"),
    ('[jobs.reset_bankrolls]\nschedule = "0 * * * *"\nbatch_size = 5\ntime_budget = "1 minute"\n'
     '[jobs.reset_bankrolls.vars]\nbase_bankroll = -1\nreferral_bonus = 10000\n',
     "[jobs.reset_bankrolls.vars] base_bankroll: expected a whole number >= 0, not -1"),
    ((JOB + '[environments.test.jobs.expire_content.vars]\npick_grace = "soon"\n', "test"),
     "[environments.test.jobs.expire_content.vars] pick_grace: an interval must be text such as '3 hours'"),
    (HEAD + '[jobs.expire_content.vars]\npick_grace = "3 hours"\n',
     "[jobs.expire_content.vars]: hard_delete_after is missing (sql/jobs/expire_content.sql uses it)"),
    ('settings = 5\n' + JOB, "[settings] must be a table"),
    ('environments = 5\n' + JOB, "[environments] must hold one table per environment"),
    ('[environments]\ntest = 5\n' + JOB, "[environments] must hold one table per environment"),
    (JOB.replace("batch_size = 5", "batch_size = 3000000000"),
     "batch_size must be a positive integer (at most 2147483647), not 3000000000"),
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
    # Files and directories: {dir}, {file} and {binary} are made in the test's directory, which the
    # command runs in ({busy}: a port something listens on); none may change, nothing may appear.
    (("deploy", "--plan", "--manifest", "{dir}"), "db", "is a directory: name its TOML file"),
    (("deploy", "--plan", "--manifest", "{binary}"), "db", "is not UTF-8 text (byte 0xff at offset 0)"),
    (("render", "--out", "{file}"), "db", "is not a directory: --out names a directory"),
    (("render", "--out", "/proc/deployer-render"), "db", "--out /proc/deployer-render: "),  # cannot be made
    (("render", "--out", ""), "db", "--out is empty"),
    (("db", "start", "--port", "99999"), "db", "--port must be between 1 and 65535, not 99999"),
    (("db", "start", "--port", "0"), "db", "--port must be between 1 and 65535, not 0"),
    (("db", "start", "--port", "{busy}"), "db", "is in use on 127.0.0.1: pick another --port"),
    (("db", "url", "--dsn", "not a dsn"), "db", "--dsn is not a connection string"),
    (("dashboard", "--port", "{busy}"), "db", "Address already in use: another program listens there"),
    (("dashboard", "--host", "no-such-host.invalid", "--token", "t"), "db",
     "--host no-such-host.invalid: not an address this machine can listen on"),
    (("watch", "--timeout", "nan"), "db", "--timeout must be more than 0 seconds (a finite number), not nan"),
    (("demo", "--users", "0"), "db", "--users must be a whole number of at least 1"),
    (("run", "expire_content", "--dry-run"), "no host", "(no host given: the local socket, port 1)"),
    (("lint",), "unreachable", "cannot connect"),
    (("lint",), "no superuser", "lint needs the extension plpgsql_check in database"),
    (("simulate", "--from", "yesterday", "--to", "2026-12-01"), "db",
     "--from 'yesterday' is not an ISO 8601 time such as 2026-11-30T00:00:00Z"),
    (("simulate", "--from", "2026-12-01", "--to", "2026-11-30"), "db",
     "--to (2026-11-30T00:00:00+00:00) must be after --from (2026-12-01T00:00:00+00:00)"),
    (("simulate", "--from", "2026-11-30", "--to", "2026-12-01", "--jobs", "expire_content,nope"), "db",
     "--jobs: unknown job 'nope'"),
    (("simulate", "--from", "2026-11-30", "--to", "2026-12-01", "--manifest", "missing.toml"), "db",
     "manifest not found: missing.toml"),
    (("simulate", "--from", "2026-11-30", "--to", "2026-12-01"), "unreachable", "cannot connect"),
    (("simulate", "--from", "2026-11-30", "--to", "2026-12-01", "--into", "postgresql://postgres@127.0.0.1:1/x"),
     "db", "--into: cannot connect"),
    (("simulate", "--from", "2026-11-30", "--to", "2026-12-01", "--into", "a", "--into", "b"), "db",
     "--into names the scratch database of each simulation: give it once, or not at all"),
    (("simulate", "--from", "2026-11-30", "--to", "2026-12-01", "--cron-timezone", "Mars/Olympus"), "db",
     "--cron-timezone 'Mars/Olympus' is not a time zone PostgreSQL knows"),
]

CASES = ([pytest.param(("deploy",), "db", item[1], item[0], id=f"manifest-{i}")
          for i, item in enumerate(MANIFESTS)]
         + [pytest.param(args, target, message, None, id=f"{args[0]}-{target}-{i}")
            for i, (args, target, message) in enumerate(COMMANDS)])
LINTER = f"jobset_linter_{os.getpid()}"  # a role that may log in and no more


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
    if target == "no host":
        return "postgres://?port=1", db
    if target == "no superuser":
        conn.execute(f"DROP ROLE IF EXISTS {LINTER}")
        conn.execute(f"CREATE ROLE {LINTER} LOGIN")
        request.addfinalizer(lambda: _drop_role(db, LINTER))
        return _as(db, user=LINTER), db
    server = request.getfixturevalue("password_server")
    primary = f"postgresql://postgres@127.0.0.1:{server['port']}/postgres"
    if target == "wrong password":
        return _as(server["with_password"], password="not-the-password"), primary
    if target == "standby":
        return server["standby"], primary
    assert target == "no pg_cron"
    return primary, primary


def _drop_role(dsn: str, role: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"DROP ROLE IF EXISTS {role}")


def _state(dsn: str) -> dict:
    """Every app and job table's digest, and the roles: equal states, nothing changed."""
    with psycopg.connect(dsn, row_factory=dict_row, autocommit=True) as c:
        roles = c.execute("SELECT string_agg(rolname, ',' ORDER BY rolname) AS r FROM pg_roles").fetchone()["r"]
        return {"roles": roles, **factories.digest(c, *support.all_tables(c))}


def _files(root: Path) -> dict[str, bytes | None]:
    """Every file and directory under `root`, with its content: equal, nothing written."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize(("args", "target", "message", "manifest"), CASES)
def test_bad_input_gets_one_line_and_exit_2_and_changes_nothing(request, db, conn, tmp_path, args, target, message,
                                                                manifest):
    factories.expired_posts(conn, NOW, 1)
    given, watched = _target(request, db, conn, target)
    env = {"PGHOST": ""}
    if manifest is not None:
        text, environment = (manifest, "") if isinstance(manifest, str) else manifest
        path = tmp_path / "jobs.toml"
        path.write_text(text)
        args = (*args, "--manifest", str(path))
        env["DEPLOYER_ENV"] = environment
    here = tmp_path / "here"  # the command's working directory
    (here / "a-directory").mkdir(parents=True)
    (here / "a-file").write_text("keep me\n")
    (here / "binary.toml").write_bytes(bytes(range(255, -1, -1)))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    request.addfinalizer(busy.close)
    places = {"{dir}": str(here / "a-directory"), "{file}": str(here / "a-file"),
              "{binary}": str(here / "binary.toml"), "{busy}": str(busy.getsockname()[1])}
    args = tuple(places.get(a, a) for a in args)
    before, files = _state(watched), _files(here)
    result = deployer(*args, dsn=given, env=env, cwd=here)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert _state(watched) == before
    assert _files(here) == files  # no .deployer/, no file written or changed


# -- what the table cannot say: no stdin at all, a reader that goes away, and what is said on success ----------


def _spawn(*args: str, dsn: str, **popen) -> subprocess.Popen:
    """The real command in a process of its own (stdin, stdout as `popen` says)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEPLOYER_ENV")}
    environ.update(DATABASE_URL=dsn, DEPLOYER_ENV="test")
    return subprocess.Popen([sys.executable, "-m", "deployer.cli", *args], env=environ, text=True, **popen)


@pytest.mark.parametrize(("args", "words"), [
    (("run", "reset_bankrolls"),
     "reset_bankrolls changes every user's data: pass --force to run it without a terminal"),
    (("uninstall",), ("uninstall drops the job set: its cron jobs, its schema jobs with the run history, and its "
                      "indexes and triggers on the app's tables (the tables stay): pass --force to uninstall "
                      "without a terminal")),
])
def test_without_any_stdin_a_confirmation_asks_for_force_in_one_line(db, conn, args, words):
    """`deployer … 0<&-`: stdin closed, not merely empty; nothing runs, nothing is dropped."""
    user = factories.user(conn)
    factories.bankroll(conn, user, balance=5000, last_reset=NOW - timedelta(days=8))
    before = _state(db)
    proc = subprocess.run(["sh", "-c", 'exec "$@" 0<&-', "sh", sys.executable, "-m", "deployer.cli", *args],
                          check=False, capture_output=True, text=True, timeout=120,
                          env={**{k: v for k, v in os.environ.items() if k != "DEPLOYER_ENV"},
                               "DATABASE_URL": db, "DEPLOYER_ENV": "test"})
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr == f"error: {words}\n" and proc.stdout == ""
    assert _state(db) == before


@pytest.mark.parametrize("json_out", [False, True], ids=["table", "json"])
def test_a_reader_that_goes_away_ends_it_quietly_with_141(db, conn, json_out):
    """`deployer history | head -2`: more output than a pipe holds, its reader gone after a few
    bytes: exit 141 (as a shell reports a program stopped by SIGPIPE), not 1 (a job failed), and
    nothing on stderr."""
    conn.execute("INSERT INTO jobs.job_executions (job_name, status, success, executed_at, message)"
                 " SELECT 'cleanup', 'succeeded', true, now() - i * interval '1 minute', repeat('x', 60)"
                 " FROM generate_series(1, 3000) AS i")
    proc = _spawn("history", "--limit", "3000", *(["--json"] if json_out else []), dsn=db,
                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert len(proc.stdout.read(100)) == 100
    proc.stdout.close()  # far less than was written: the rest meets a closed pipe
    assert proc.wait(timeout=120) == 141
    assert proc.stderr.read() == ""


def test_uninstall_says_what_it_did_and_a_second_one_that_there_was_nothing(db, conn):
    first = deployer("uninstall", "--force", dsn=db)
    assert first.returncode == 0, first.stderr
    assert "drop schema jobs" in first.stdout
    second = deployer("uninstall", "--force", dsn=db)
    assert (second.returncode, second.stderr) == (0, "")
    assert second.stdout == ("nothing to uninstall: no schema jobs, no cron job and no index of the job set here\n")
    assert json.loads(deployer("uninstall", "--force", "--json", dsn=db).stdout) == {"changes": []}


def test_version_short_help_and_usage_lines():
    version = deployer("--version")
    assert version.returncode == 0 and version.stdout.startswith("deployer 0.") and version.stderr == ""
    assert deployer("-h").stdout == deployer("--help").stdout
    assert "--version" in deployer("--help").stdout
    run, history = deployer("run", "-h"), deployer("history", "-h")
    assert run.returncode == 0 and run.stdout.splitlines()[0] == "Usage: deployer run [OPTIONS] JOB"
    assert history.stdout.splitlines()[0] == "Usage: deployer history [OPTIONS] [JOB]"
    assert deployer("watch", "--help").stdout.splitlines()[0] == "Usage: deployer watch [OPTIONS] [JOB]"
    missing = deployer("run")
    assert (missing.returncode, missing.stderr) == (2, "error: Missing argument 'JOB'. (see `deployer run --help`)\n")


def test_db_url_shows_a_url_as_a_url_and_keywords_as_keywords():
    url = deployer("db", "url", "--dsn", "postgresql://someone:s3cret@db.example:6000/app?sslmode=require")
    assert (url.returncode, url.stdout) == (0, "postgresql://someone:***@db.example:6000/app?sslmode=require\n")
    keywords = deployer("db", "url", "--dsn", "host=db.example password=s3cret dbname=app")
    assert sorted(keywords.stdout.split()) == ["dbname=app", "host=db.example", "password=***"]


def test_a_db_start_that_fails_leaves_nothing_behind(tmp_path):
    """initdb fails (a full disk, a broken installation): the .deployer/ it began, and the data
    directory root's cluster gets outside it, are removed again."""
    server = local.find_server()
    bins = tmp_path / "bin"
    bins.mkdir()
    for name in ("postgres", "pg_ctl"):
        (bins / name).symlink_to(server.bindir / name)
    (bins / "initdb").write_text("#!/bin/sh\necho 'initdb: error: could not create directory: No space left' >&2\n"
                                 "exit 1\n")
    (bins / "initdb").chmod(0o755)
    here = tmp_path / "here"
    here.mkdir()
    result = deployer("db", "start", "--bindir", str(bins), cwd=here)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("error: initdb failed: ") and result.stderr.count("\n") == 1, result.stderr
    assert list(here.iterdir()) == []
    digest = hashlib.sha1(str((here / ".deployer").resolve()).encode()).hexdigest()[:12]
    assert not Path("/var/tmp", f"deployer-{digest}").exists()


def test_db_start_does_not_move_an_existing_cluster_to_another_port():
    home = Path(tempfile.mkdtemp(prefix="jobset-port-", dir="/tmp"))
    home.chmod(0o755)
    try:
        first = deployer("db", "start", "--json", cwd=home)
        assert first.returncode == 0, first.stderr
        port = conninfo_to_dict(json.loads(first.stdout)["url"])["port"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            other = str(s.getsockname()[1])
        moved = deployer("db", "start", "--port", other, cwd=home)
        assert (moved.returncode, moved.stdout) == (2, "")
        assert moved.stderr == (f"error: the local cluster in {home / '.deployer'} listens on port {port}; --port sets "
                                f"the port of a new cluster only (remove {home / '.deployer'} for a new one)\n")
        same = deployer("db", "start", "--port", port, cwd=home)
        assert (same.returncode, same.stdout.split()[:2]) == (0, ["already", "running"])
    finally:
        deployer("db", "stop", cwd=home)
        state = home / ".deployer" / "cluster.json"
        if state.exists():
            shutil.rmtree(json.loads(state.read_text())["base"], ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def test_lint_asks_the_database_first_and_never_starts_sqlfluff_when_it_cannot_check(request, db, conn):
    """A refused connection, a right lacking: one line before sqlfluff's half minute, which never
    starts (python -X importtime lists every module the command imported)."""
    conn.execute(f"DROP ROLE IF EXISTS {LINTER}")
    conn.execute(f"CREATE ROLE {LINTER} LOGIN")
    request.addfinalizer(lambda: _drop_role(db, LINTER))
    for dsn, words in (("postgresql://postgres@127.0.0.1:1/postgres", "error: cannot connect to "),
                       (_as(db, user=LINTER), "error: lint needs the extension plpgsql_check in database")):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "deployer.cli", "lint", "--dsn", dsn],
                              check=False, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                              env={**os.environ, "DEPLOYER_ENV": "test"})
        imported = [line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                    if line.startswith("import time:")]
        said = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
        assert proc.returncode == 2 and len(said) == 1 and said[0].startswith(words), said
        assert "psycopg" in imported and not [m for m in imported if m.split(".")[0] == "sqlfluff"]
