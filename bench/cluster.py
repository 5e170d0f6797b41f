"""The bench's own throwaway cluster: the local Cluster of `deployer db start` (the
PostgreSQL it finds or $DEPLOYER_PG_BINDIR names, pg_cron preloaded, loopback only), made
durable like production (fsync, synchronous commit and full-page writes on) with ALTER
SYSTEM and a restart. Deleted when the suite ends, however it ends."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from deployer.db import dsn_for_database
from deployer.local import Cluster, throwaway

# What the bench changes from the local cluster's settings, and why.
SETTINGS = {
    "fsync": "on",                      # the local cluster turns these three off
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "1GB",            # the 10M-post table's indexes fit (default 128MB)
    "max_wal_size": "4GB",              # 1M-row statements are not cut by forced checkpoints
    "maintenance_work_mem": "256MB",    # template builds only
}
# What the report shows (the rest are PostgreSQL's defaults).
REPORTED = ["server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_level",
            "shared_buffers", "work_mem", "maintenance_work_mem", "max_wal_size", "checkpoint_timeout",
            "effective_cache_size", "random_page_cost", "jit", "autovacuum", "max_connections",
            "listen_addresses", "shared_preload_libraries"]


class BenchCluster:
    """A running bench cluster: admin DSN, DSNs of its databases, clones of templates."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.admin = cluster.url()
        self._names = itertools.count(1)

    @property
    def port(self) -> int:
        return self.cluster.port

    @property
    def logfile(self) -> Path:
        return self.cluster.logfile

    @property
    def wal_dir(self) -> Path:
        return self.cluster.datadir / "pg_wal"

    def dsn(self, database: str) -> str:
        return dsn_for_database(self.admin, database)

    def execute(self, statement: str, params: tuple = ()) -> list[tuple]:
        """One statement in the `postgres` database; its rows, if any."""
        with psycopg.connect(self.admin, autocommit=True) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def settings(self) -> list[tuple[str, str]]:
        rows = self.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
                            (REPORTED,))
        found = dict(rows)
        return [(name, found[name]) for name in REPORTED if name in found]

    def create_database(self, name: str) -> str:
        self.drop_database(name)
        self.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        self.execute("DELETE FROM cron.job WHERE database = %s", (name,))
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def freeze_template(self, name: str) -> None:
        """Mark a built database as a template nobody connects to (autovacuum included), so
        that cloning it never finds it busy."""
        self.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')

    @contextmanager
    def clone(self, template: str) -> Iterator[str]:
        """A fresh copy of a template (file copy: fast for large databases), dropped after."""
        name = f"{template}_{next(self._names)}"
        for attempt in range(20):
            try:
                self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 19:
                    raise
                time.sleep(0.5)
        try:
            yield self.dsn(name)
        finally:
            self.drop_database(name)


@contextmanager
def bench_cluster() -> Iterator[BenchCluster]:
    """Start the bench cluster with SETTINGS; stop and delete it on the way out."""
    with throwaway("jobset-bench-", 56432) as cluster:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            for name, value in SETTINGS.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        cluster.stop()
        cluster.start()
        yield BenchCluster(cluster)
