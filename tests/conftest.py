"""Fixtures: one server for the session, one template database with the app schema and
the job set deployed, and a fresh clone of it for every test (CREATE DATABASE … TEMPLATE)."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg.rows import dict_row

from deployer import install, manifest
from deployer.db import dsn_for_database
from deployer.errors import LocalClusterError
from tests import pg
from tests.sqlfluff_memo import MEMO

pytest_plugins = ["tests.workers"]

TEMPLATE = "jobset_template"
_counter = itertools.count(1)


def _admin(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True, row_factory=dict_row)


def drop_database(admin_dsn: str, name: str) -> None:
    with _admin(admin_dsn) as conn:
        conn.execute("DELETE FROM cron.job WHERE database = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_MADE: list[str] = []  # what this process made for the run, removed at its end


def pytest_configure(config) -> None:
    # sqlfluff's results, kept for the run (tests/sqlfluff_memo.py); a run's workers inherit it.
    if not os.environ.get(MEMO):
        os.environ[MEMO] = tempfile.mkdtemp(prefix="jobset-sqlfluff-memo-")
        _MADE.append(os.environ[MEMO])


def pytest_unconfigure(config) -> None:
    for path in _MADE:
        shutil.rmtree(path, ignore_errors=True)


SERVER: dict[str, str | None] = {}  # the versions the session's server has (pg.describe)


@pytest.fixture(scope="session")
def admin_dsn(request) -> Iterator[str]:
    """The server's `postgres` database, where pg_cron lives. Its versions are checked
    against JOBSET_EXPECT_PG_VERSION / JOBSET_EXPECT_PG_CRON and written where
    JOBSET_TEST_SERVER_INFO says (tests/pg.py); a worker sends them to the run's summary."""
    with pg.server() as dsn:
        SERVER.update(pg.describe(dsn))
        if hasattr(request.config, "workeroutput"):
            request.config.workeroutput["jobset_server"] = dict(SERVER)
        info = os.environ.get("JOBSET_TEST_SERVER_INFO")
        if info:  # whole, whichever worker writes it last
            fd, partial = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(info)))
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(SERVER, out)
            os.replace(partial, info)
        failures = pg.expectation_failures(SERVER)
        if failures and hasattr(request.config, "workeroutput"):  # a worker: the whole run stops
            request.session.shouldstop = "; ".join(failures)
            pytest.fail("; ".join(failures), pytrace=False)
        if failures:
            pytest.exit("; ".join(failures), returncode=1)
        yield dsn


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """A worker's server, for the run's summary (the workers' servers are alike)."""
    SERVER.update(getattr(node, "workeroutput", {}).get("jobset_server") or {})


def pytest_terminal_summary(terminalreporter) -> None:
    if SERVER:
        cron = f"pg_cron {SERVER['pg_cron']}" if SERVER["pg_cron"] else "no pg_cron"
        terminalreporter.write_line(f"the tests' server: PostgreSQL {SERVER['server_version']}, {cron}")


@pytest.fixture(scope="session")
def test_manifest() -> manifest.Manifest:
    return manifest.load(environment="test")


@pytest.fixture(scope="session")
def template_dsn(admin_dsn: str, test_manifest: manifest.Manifest) -> str:
    drop_database(admin_dsn, TEMPLATE)
    with _admin(admin_dsn) as conn:
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    dsn = dsn_for_database(admin_dsn, TEMPLATE)
    # Not scheduled: pg_cron must never connect to the template, or cloning it would fail.
    install.deploy(dsn, test_manifest, with_app_schema=True, with_schedule=False)
    return dsn


def new_database(admin_dsn: str, template: str) -> tuple[str, str]:
    name = f"jobset_test_{os.getpid()}_{next(_counter)}"
    with _admin(admin_dsn) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, dsn_for_database(admin_dsn, name)


@contextmanager
def fresh_database(admin_dsn: str, template: str = TEMPLATE) -> Iterator[tuple[str, str]]:
    """(name, DSN) of a new clone of `template`, dropped on the way out however the block ends."""
    name, dsn = new_database(admin_dsn, template)
    try:
        yield name, dsn
    finally:
        drop_database(admin_dsn, name)


@contextmanager
def empty_database(admin_dsn: str) -> Iterator[str]:
    """DSN of a new empty database (a simulation's copy goes there), dropped on the way out."""
    name = f"jobset_empty_{os.getpid()}_{next(_counter)}"
    with _admin(admin_dsn) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield dsn_for_database(admin_dsn, name)
    finally:
        drop_database(admin_dsn, name)


@pytest.fixture
def db(admin_dsn: str, template_dsn: str) -> Iterator[str]:
    """DSN of a fresh database: app schema and job set deployed, no rows, nothing scheduled."""
    with fresh_database(admin_dsn) as (_, dsn):
        yield dsn


@pytest.fixture
def conn(db: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the fresh database, rows as dicts."""
    with psycopg.connect(db, autocommit=True, row_factory=dict_row) as connection:
        yield connection


PASSWORD = "Pw-9f3c2e7d-never-print"  # what the secrets test greps every output for
PW_USER = "jobset_pw"


@pytest.fixture(scope="session")
def password_server(test_manifest: manifest.Manifest) -> Iterator[dict[str, str]]:
    """A second small server that asks `jobset_pw` for a password over TCP (scram), with the
    reference app schema in its `postgres` database, and a streaming standby of it (read
    only). Yields DSNs: `with_password`, `without_password` (user only), `standby`."""
    import subprocess
    import tempfile
    from pathlib import Path

    from deployer import local
    from deployer.db import connect

    with local.throwaway("jobset-pw-", 56432) as primary:
        with connect(primary.url()) as c:
            install.install_app_schema(c, test_manifest.template_vars())
            c.execute(f"CREATE ROLE {PW_USER} LOGIN SUPERUSER PASSWORD '{PASSWORD}'")
            hba = Path(c.execute("SHOW hba_file").fetchone()["hba_file"])
            hba.write_text(f"host all {PW_USER} 127.0.0.1/32 scram-sha-256\n"
                           f"host all {PW_USER} ::1/128 scram-sha-256\n" + hba.read_text())
            c.execute("SELECT pg_reload_conf()")
        home = Path(tempfile.mkdtemp(prefix="jobset-standby-", dir="/tmp"))
        home.chmod(0o755)
        data = home / "data"
        local._chown_server(home)
        bins = local.bindir()
        run = lambda cmd: subprocess.run(local._as_server_user(cmd), check=True, capture_output=True)  # noqa: E731
        # -c fast: the base backup's checkpoint at once, not spread over up to a minute.
        run([str(bins / "pg_basebackup"), "-D", str(data), "-h", "127.0.0.1", "-p", str(primary.port),
             "-U", "postgres", "-R", "-X", "stream", "-c", "fast"])

        def start(port: int) -> None:
            done = subprocess.run(local._as_server_user([
                str(bins / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data), "-l", str(home / "log"),
                "-o", f"-p {port} -k {home}"]), capture_output=True, check=False)
            if done.returncode != 0:
                raise LocalClusterError(f"the standby did not start: {done.stderr.decode(errors='replace')}")

        port = local.start_on_free_port(start, 57432, lambda: home / "log")
        with connect(primary.url()) as c:  # the standby keeps it; the primary is a server without pg_cron
            c.execute("DROP EXTENSION pg_cron")
        try:
            base = f"host=127.0.0.1 port={primary.port} dbname=postgres user={PW_USER}"
            yield {"with_password": f"postgresql://{PW_USER}:{PASSWORD}@127.0.0.1:{primary.port}/postgres",
                   "without_password": base, "port": str(primary.port),
                   "standby": f"postgresql://postgres@127.0.0.1:{port}/postgres"}
        finally:
            subprocess.run(local._as_server_user([str(bins / "pg_ctl"), "stop", "-w", "-m", "immediate",
                                                  "-D", str(data)]), capture_output=True, check=False)
            import shutil
            shutil.rmtree(home, ignore_errors=True)
