"""`deployer db …`: the embedded cluster, created from the system binaries in ./.deployer.

The binaries are the ones the session uses (deployer.local.find_server: $DEPLOYER_PG_BINDIR,
else the newest installed), whatever their major version, so the CI stage that points
DEPLOYER_PG_BINDIR at another PostgreSQL or pg_cron runs these tests on it too."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from deployer import local
from tests.support import cli as deployer


@pytest.fixture
def workdir():
    path = Path(tempfile.mkdtemp(prefix="jobset-db-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    deployer("db", "stop", cwd=path)
    state = path / ".deployer" / "cluster.json"
    if state.exists():
        shutil.rmtree(json.loads(state.read_text())["base"], ignore_errors=True)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def server() -> local.Server:
    return local.find_server()


def test_db_start_creates_a_cluster_with_pg_cron_and_is_idempotent(workdir, server):
    assert deployer("db", "url", cwd=workdir).returncode == 2
    assert deployer("db", "status", cwd=workdir).stdout.strip() == "not created"
    first = deployer("db", "start", cwd=workdir)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("started postgresql://postgres@127.0.0.1:")
    url = first.stdout.split()[-1]
    again = deployer("db", "start", cwd=workdir)
    assert (again.returncode, again.stdout.strip()) == (0, f"already running {url}")
    assert deployer("db", "url", cwd=workdir).stdout.strip() == url
    status = deployer("db", "status", cwd=workdir)
    assert status.returncode == 0 and f"(PostgreSQL {server.version}, data in " in status.stdout
    with psycopg.connect(url) as conn:
        cron = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'").fetchone()[0]
        assert cron == server.extension_version("pg_cron")
        if os.environ.get("JOBSET_EXPECT_PG_CRON"):
            assert cron.startswith(os.environ["JOBSET_EXPECT_PG_CRON"])
        assert conn.execute("SHOW server_version").fetchone()[0].split()[0] == server.version
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


def fake_postgres(bins: Path, says: str) -> None:
    """A bin directory whose `postgres --version` says `says` (initdb and pg_ctl do nothing)."""
    bins.mkdir()
    for name in local.SERVER_PROGRAMS:
        (bins / name).write_text(f"#!/bin/sh\necho '{says}'\n")
        (bins / name).chmod(0o755)


@pytest.mark.parametrize("case", ["no directory", "empty directory", "not postgres", "a file"])
@pytest.mark.parametrize("how", ["env", "option"])
def test_a_bindir_without_a_server_is_one_line_exit_2_and_leaves_nothing(workdir, case, how):
    bins = workdir / "bin"
    if case == "empty directory":
        bins.mkdir()
    elif case == "not postgres":
        fake_postgres(bins, "hello")
    elif case == "a file":
        bins.write_text("")
    args, env = (["--bindir", str(bins)], {}) if how == "option" else ([], {"DEPLOYER_PG_BINDIR": str(bins)})
    result = deployer("db", "start", *args, cwd=workdir, env=env)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    if case == "not postgres":
        assert f"{bins / 'postgres'} is not a PostgreSQL server: `postgres --version` said: hello" in result.stderr
    else:
        why = {"no directory": "no such directory", "empty directory": "postgres, initdb, pg_ctl missing",
               "a file": "not a directory"}[case]
        assert f"no PostgreSQL server in {bins} ({why}): point DEPLOYER_PG_BINDIR (or --bindir) at" in result.stderr
        major = local._debian_default_major()
        if major:
            assert f"apt-get install postgresql-{major} postgresql-{major}-cron" in result.stderr
    assert not (workdir / ".deployer").exists()


def test_missing_pg_cron_names_the_package_for_the_version_found(workdir, server):
    # A copy of the server program with a library directory beside it that has no pg_cron;
    # no pg_config anywhere: the version comes from `postgres --version`.
    bins, lib = workdir / "pg" / "bin", workdir / "pg" / "lib"
    bins.mkdir(parents=True)
    lib.mkdir()
    shutil.copy2(server.bindir.resolve() / "postgres", bins / "postgres")
    for name in ("initdb", "pg_ctl"):
        (bins / name).symlink_to(server.bindir / name)
    (lib / "plpgsql.so").symlink_to(server.pkglibdir / "plpgsql.so")
    result = deployer("db", "start", cwd=workdir, env={"DEPLOYER_PG_BINDIR": str(bins)})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert (f"pg_cron is not installed for PostgreSQL {server.version} (no pg_cron.so in {lib})"
            in result.stderr)
    assert f"apt-get install postgresql-{server.major}-cron" in result.stderr
    assert not (workdir / ".deployer").exists()


def relocated_copy(server: local.Server, root: Path) -> Path:
    """A copy of the server's installation under `root`, without pg_config; its bin directory.
    Debian's layout (<prefix>/lib/postgresql/<major> and <prefix>/share/postgresql/<major>) is
    copied as such; any other as the directory above bin."""
    real = server.bindir.resolve()
    if real.parent.parent.name == "postgresql" and real.parent.parent.parent.name == "lib":
        prefix = real.parent.parent.parent.parent
        major = real.parent.name
        for part in ("lib", "share"):
            (root / part / "postgresql").mkdir(parents=True)
            shutil.copytree(prefix / part / "postgresql" / major, root / part / "postgresql" / major, symlinks=True)
        bins = root / "lib" / "postgresql" / major / "bin"
    else:
        shutil.copytree(real.parent, root, symlinks=True)
        bins = root / real.name
    (bins / "pg_config").unlink(missing_ok=True)
    return bins


def test_a_relocated_installation_without_pg_config_runs_and_is_remembered(workdir, server):
    bins = relocated_copy(server, workdir / "pg")
    found = local.inspect(bins)
    assert found.version == server.version and found.has_pg_cron()
    assert found.pkglibdir.is_relative_to(workdir / "pg") and found.sharedir.is_relative_to(workdir / "pg")
    assert found.extension_version("pg_cron") == server.extension_version("pg_cron") is not None
    first = deployer("db", "start", "--bindir", str(bins), "--json", cwd=workdir)
    assert first.returncode == 0, first.stderr
    started = json.loads(first.stdout)
    assert (started["state"], started["version"]) == ("started", server.version)
    with psycopg.connect(started["url"]) as conn:
        # The server runs from the copy: its compiled-in directories are the copy's.
        libdir = conn.execute("SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'").fetchone()[0]
        assert Path(libdir) == found.pkglibdir
        cron = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'").fetchone()[0]
        assert cron == server.extension_version("pg_cron")
    state = json.loads((workdir / ".deployer" / "cluster.json").read_text())
    assert (state["bindir"], state["version"]) == (str(bins), server.version)
    # Stop and status use the binaries that made the cluster, whatever the environment says.
    env = {"DEPLOYER_PG_BINDIR": ""}
    assert deployer("db", "status", cwd=workdir, env=env).stdout.startswith(f"running {started['url']} (PostgreSQL ")
    assert deployer("db", "stop", cwd=workdir, env=env).stdout.strip() == "stopped"
    again = deployer("db", "start", cwd=workdir, env=env)
    assert again.returncode == 0 and again.stdout.strip() == f"started {started['url']}"


def test_a_cluster_of_another_major_version_is_refused(workdir, server):
    datadir = workdir / ".deployer" / "data"
    datadir.mkdir(parents=True)
    (datadir / "PG_VERSION").write_text("9.6\n")
    (workdir / ".deployer" / "cluster.json").write_text(json.dumps({"base": str(workdir / ".deployer")}))
    result = deployer("db", "start", cwd=workdir)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert (f"the cluster in {datadir} was made by PostgreSQL 9.6, and {server.bindir} has {server.label}"
            in result.stderr)
    assert sorted(p.name for p in datadir.iterdir()) == ["PG_VERSION"]


@pytest.mark.parametrize("says, version, major", [
    ("postgres (PostgreSQL) 17.2", "17.2", "17"),
    ("postgres (PostgreSQL) 16.2 (Debian 16.2-1.pgdg120+2)", "16.2", "16"),
    ("postgres (PostgreSQL) 18beta1", "18", "18"),
    ("postgres (PostgreSQL) 9.6.24", "9.6.24", "9.6"),
])
def test_the_version_is_what_postgres_says(tmp_path, says, version, major):
    fake_postgres(tmp_path / "bin", says)
    found = local.inspect(tmp_path / "bin")
    assert (found.version, found.major, found.label) == (version, major, f"PostgreSQL {version}")
    assert (found.pkglibdir, found.sharedir) == (None, None)


@pytest.mark.parametrize("layout", ["lib", "lib/postgresql", "lib64/pgsql"])
def test_the_library_directory_is_found_beside_the_binaries(tmp_path, layout):
    fake_postgres(tmp_path / "bin", "postgres (PostgreSQL) 17.2")
    (tmp_path / layout).mkdir(parents=True)
    (tmp_path / layout / "plpgsql.so").write_text("")
    # A symbolic link to the program counts where the program really is, as for the server.
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "postgres").symlink_to(tmp_path / "bin" / "postgres")
    assert local.library_dir(tmp_path / "bin") == tmp_path / layout
    assert local.library_dir(tmp_path / "elsewhere") == tmp_path / layout
    assert not local.inspect(tmp_path / "bin").has_pg_cron()
    (tmp_path / layout / "pg_cron.so").write_text("")
    assert local.inspect(tmp_path / "bin").has_pg_cron()
    (tmp_path / "share" / "extension").mkdir(parents=True)
    (tmp_path / "share" / "extension" / "plpgsql.control").write_text("")
    (tmp_path / "share" / "extension" / "pg_cron.control").write_text("comment = 'x'\ndefault_version = '1.6'\n")
    assert local.inspect(tmp_path / "bin").extension_version("pg_cron") == "1.6"


def test_the_versions_a_session_expects_are_checked(monkeypatch):
    from tests import pg

    monkeypatch.setenv("JOBSET_EXPECT_PG_VERSION", "17")
    monkeypatch.setenv("JOBSET_EXPECT_PG_CRON", "1.6")
    assert pg.expectation_failures({"server_version": "17.12", "pg_cron": "1.6"}) == []
    assert pg.expectation_failures({"server_version": "17", "pg_cron": "1.6.4"}) == []
    assert pg.expectation_failures({"server_version": "15.20", "pg_cron": "1.4-1"}) == [
        "JOBSET_EXPECT_PG_VERSION=17, but the tests' server has PostgreSQL 15.20",
        "JOBSET_EXPECT_PG_CRON=1.6, but the tests' server has pg_cron 1.4-1"]
    assert len(pg.expectation_failures({"server_version": "170.1", "pg_cron": "1.60"})) == 2
    assert len(pg.expectation_failures({"server_version": "17.2", "pg_cron": None})) == 1
    monkeypatch.delenv("JOBSET_EXPECT_PG_VERSION")
    monkeypatch.delenv("JOBSET_EXPECT_PG_CRON")
    assert pg.expectation_failures({"server_version": "9.6.24", "pg_cron": None}) == []


def test_a_throwaway_cluster_whose_port_is_taken_before_it_binds_starts_on_the_next(monkeypatch):
    """Test runs side by side: a port found free is taken before the server binds it. The
    start that could not listen is retried on the next free port, not reported as a failure."""
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    busy = taken.getsockname()[1]
    real_free_port = local._free_port
    # Asked near `busy`, it answers `busy`: the port someone else took just after the check.
    monkeypatch.setattr(local, "_free_port", lambda preferred: busy if preferred == busy else real_free_port(preferred))
    try:
        with local.throwaway("jobset-port-race-", busy) as cluster:
            assert cluster.port != busy
            with psycopg.connect(cluster.url()) as conn:
                assert conn.execute("SHOW port").fetchone()[0] == str(cluster.port)
    finally:
        taken.close()


def test_db_start_whose_chosen_port_is_taken_before_it_binds_moves_to_the_next(workdir, monkeypatch):
    """Two test runs side by side: `deployer db start` without --port found a port free, and
    another program took it before the new cluster's first start could bind it. The cluster
    moves to the next free port (and keeps it), instead of failing to start."""
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    busy = taken.getsockname()[1]
    real_free_port = local._free_port
    # The cluster is made asking for the default port, and its start asking for that one, and
    # both are told `busy`: free when checked, taken when the server binds it.
    monkeypatch.setattr(local, "_free_port", lambda preferred: busy if preferred in (local.DEFAULT_PORT, busy)
                        else real_free_port(preferred))
    cluster = local.Cluster(workdir / ".deployer")
    try:
        assert cluster.start() is True
        moved = cluster.port
        assert moved != busy and json.loads(cluster.state_file.read_text())["port"] == moved
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("SHOW port").fetchone()[0] == str(moved)
        cluster.stop()
        taken.close()  # free again, yet the cluster keeps the port it moved to
        assert cluster.start() is True and cluster.port == moved
        with psycopg.connect(cluster.url()) as conn:
            assert conn.execute("SHOW port").fetchone()[0] == str(moved)
    finally:
        taken.close()
        cluster.stop()
