"""A real PostgreSQL with pg_cron for the tests.

JOBSET_TEST_PG picks the provider: `docker` (testcontainers), `local` (a throwaway cluster
from the system binaries, via deployer.local: $DEPLOYER_PG_BINDIR's, any major version, else
the newest installed), or unset: docker when a Docker engine answers, local otherwise.
JOBSET_TEST_DSN uses an existing server instead: a disposable one, since the tests create
and drop databases on it and deploy into its `postgres` database (it must preload pg_cron
with cron.database_name = postgres, and have pg_cron created there).

Which server the session ran is checked and told (`describe`): JOBSET_EXPECT_PG_VERSION and
JOBSET_EXPECT_PG_CRON, when set, are the versions it must have (15 matches 15.20, 1.6
matches 1.6); JOBSET_TEST_SERVER_INFO, when set, names a file that gets them as JSON; the
run's summary names them.

The container runs the image JOBSET_TEST_IMAGE (default snapbet-jobs-pg15-cron:test) when
the engine has it, whether pg_cron/build-offline or a registry build made it; otherwise it
is built from pg_cron/Dockerfile and kept. JOBSET_TEST_DOCKER_NETWORK=host runs it on the
host's network, listening on 127.0.0.1 only, on a free port (for an engine without a
bridge, as in scripts/ci-containers); by default its port 5432 is published.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deployer.local import throwaway

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "snapbet-jobs-pg15-cron:test"


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means no engine
        return False


@contextmanager
def local_server() -> Iterator[str]:
    # Each worker (tests/workers.py) prefers a port of its own: two starting together never
    # both find the same one free.
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    with throwaway("jobset-test-", 55432 + 100 * worker) as cluster:
        yield cluster.url()


def docker_image() -> str:
    """The image's name, built from pg_cron/Dockerfile when the engine lacks it."""
    import docker

    name = os.environ.get("JOBSET_TEST_IMAGE", IMAGE)
    client = docker.from_env()
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        client.images.build(path=str(ROOT / "pg_cron"), tag=name, rm=True)
    return name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def docker_server() -> Iterator[str]:
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # testcontainers before 4.13
        from testcontainers.postgres import PostgresContainer

    container = PostgresContainer(docker_image(), username="postgres", password="postgres", dbname="postgres",
                                  driver=None)
    if os.environ.get("JOBSET_TEST_DOCKER_NETWORK") == "host":
        # Nothing to publish, so testcontainers has no mapped port to report: the URL is ours.
        port = free_port()
        container.ports.clear()
        container.with_env("PGPORT", str(port)).with_kwargs(network_mode="host")
        container.with_command(["postgres", "-c", "listen_addresses=127.0.0.1"])
        with container:
            yield f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres"
    else:
        with container:
            yield container.get_connection_url()


def describe(dsn: str) -> dict[str, str | None]:
    """The versions of the server at `dsn`: PostgreSQL's and pg_cron's (None without it)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
        cron = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'").fetchone()
    return {"server_version": version, "pg_cron": cron[0] if cron else None}


def _matches(found: str | None, wanted: str) -> bool:
    return found is not None and (found == wanted or found.startswith(wanted + "."))


def expectation_failures(info: dict[str, str | None]) -> list[str]:
    """What JOBSET_EXPECT_PG_VERSION and JOBSET_EXPECT_PG_CRON ask that the server lacks."""
    failures = []
    for variable, key, name in (("JOBSET_EXPECT_PG_VERSION", "server_version", "PostgreSQL"),
                                ("JOBSET_EXPECT_PG_CRON", "pg_cron", "pg_cron")):
        wanted = os.environ.get(variable)
        if wanted and not _matches(info[key], wanted):
            failures.append(f"{variable}={wanted}, but the tests' server has {name} {info[key]}")
    return failures


@contextmanager
def server() -> Iterator[str]:
    if os.environ.get("JOBSET_TEST_DSN"):
        yield os.environ["JOBSET_TEST_DSN"]
        return
    mode = os.environ.get("JOBSET_TEST_PG", "auto")
    if mode not in ("auto", "docker", "local"):
        raise RuntimeError(f"JOBSET_TEST_PG must be docker, local or unset, not {mode!r}")
    if mode == "docker" or (mode == "auto" and docker_available()):
        with docker_server() as dsn:
            yield dsn
    else:
        with local_server() as dsn:
            yield dsn
