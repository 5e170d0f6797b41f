"""`deployer db …`: the embedded cluster, created from the system binaries in ./.deployer."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest


from tests.support import cli as deployer


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="jobset-db-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    deployer("db", "stop", cwd=path)
    state = path / ".deployer" / "cluster.json"
    if state.exists():
        import json

        shutil.rmtree(json.loads(state.read_text())["base"], ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)


def test_db_start_creates_a_cluster_with_pg_cron_and_is_idempotent(workdir):
    assert deployer("db", "url", cwd=workdir).returncode == 2
    assert deployer("db", "status", cwd=workdir).stdout.strip() == "not created"
    first = deployer("db", "start", cwd=workdir)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("started postgresql://postgres@127.0.0.1:")
    url = first.stdout.split()[-1]
    again = deployer("db", "start", cwd=workdir)
    assert (again.returncode, again.stdout.strip()) == (0, f"already running {url}")
    assert deployer("db", "url", cwd=workdir).stdout.strip() == url
    assert deployer("db", "status", cwd=workdir).returncode == 0
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'").fetchone()[0] >= "1.4"
        assert conn.execute("SHOW shared_preload_libraries").fetchone()[0] == "pg_cron"
        assert conn.execute("SHOW cron.database_name").fetchone()[0] == "postgres"
        assert conn.execute("SHOW cron.host").fetchone()[0].endswith("/run")
    # Without --dsn or DATABASE_URL, commands use this cluster.
    plan = deployer("deploy", "--plan", "--with-app-schema", cwd=workdir)
    assert plan.returncode == 0 and "would install framework/40_run_job.sql" in plan.stdout
    stop = deployer("db", "stop", cwd=workdir)
    assert stop.stdout.strip() == "stopped"
    status = deployer("db", "status", cwd=workdir)
    assert (status.returncode, status.stdout.strip()) == (1, "not running")
    assert deployer("db", "stop", cwd=workdir).stdout.strip() == "not running"


def test_missing_server_binaries_name_the_packages(workdir):
    result = deployer("db", "start", cwd=workdir, env={"DEPLOYER_PG_BINDIR": str(workdir / "nowhere")})
    assert result.returncode == 2
    assert "apt-get install postgresql-15 postgresql-15-cron" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (workdir / ".deployer").exists()


def test_missing_pg_cron_names_the_package(workdir):
    bins = workdir / "bin"
    bins.mkdir()
    for name in ("postgres", "initdb", "pg_ctl"):
        (bins / name).symlink_to(Path("/usr/lib/postgresql/15/bin") / name)
    (bins / "pg_config").write_text(f"#!/bin/sh\necho {workdir / 'emptylib'}\n")
    (bins / "pg_config").chmod(0o755)
    result = deployer("db", "start", cwd=workdir, env={"DEPLOYER_PG_BINDIR": str(bins)})
    assert result.returncode == 2
    assert "pg_cron is not installed" in result.stderr and "postgresql-15-cron" in result.stderr
    assert not (workdir / ".deployer").exists()
