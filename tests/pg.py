"""A real PostgreSQL 15 with pg_cron for the tests.

JOBSET_TEST_PG picks the provider: `docker` (testcontainers, image built from pg_cron/),
`local` (a throwaway cluster from the system binaries, via deployer.local), or unset:
docker when a Docker engine answers, local otherwise. JOBSET_TEST_DSN uses an existing
server instead: a disposable one, since the tests create and drop databases on it and
deploy into its `postgres` database (it must preload pg_cron with
cron.database_name = postgres).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deployer.local import throwaway

ROOT = Path(__file__).resolve().parent.parent


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means no engine
        return False


@contextmanager
def local_server() -> Iterator[str]:
    with throwaway("jobset-test-", 55432) as cluster:
        yield cluster.url()


@contextmanager
def docker_server() -> Iterator[str]:
    from testcontainers.core.image import DockerImage
    from testcontainers.postgres import PostgresContainer

    with DockerImage(path=str(ROOT / "pg_cron"), tag="snapbet-jobs-pg15-cron:test") as image:
        container = PostgresContainer(str(image), username="postgres", password="postgres", dbname="postgres",
                                      driver=None)
        with container:
            yield container.get_connection_url()


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
