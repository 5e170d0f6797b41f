"""A Citus test cluster on this machine: a coordinator and two workers, three local clusters
on loopback ports (deployer.local.Cluster, run as `postgres`), each preloading citus before
pg_cron, from the binaries scripts/citus builds (DEPLOYER_PG_BINDIR or JOBSET_CITUS_BINDIR).

    python -m tests.citus start DIR   # start (making it when missing); prints the coordinator's URL
    python -m tests.citus stop DIR    # stop all three (however many run), then remove DIR
    python -m tests.citus url DIR     # the coordinator's URL

The tests (tests/test_citus.py, marked `citus`) use JOBSET_CITUS_URL, a coordinator already
running (scripts/ci-citus starts one this way), else start a throwaway cluster of their own
for the session and stop it at its end (a fixture's finalizer, and atexit when the process
ends another way).

A database on the cluster is a database of the same name on each node, with the citus
extension in each and the workers registered in the coordinator's (`citus_db`): Citus keeps
its metadata per database. pg_cron lives in the coordinator's `postgres` database
(cron.database_name), as on Supabase; the workers preload it too but schedule nothing.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from deployer import local

NODES = ("coordinator", "worker1", "worker2")
# Few shards: on 2 cores every multi-shard statement opens a connection per shard placement;
# 4 a worker keeps the parallelism a real cluster has without drowning the machine.
SHARD_COUNT = 8
SETTINGS = {
    "shared_preload_libraries": "'citus, pg_cron'",  # citus first, as Citus requires
    "max_prepared_transactions": "200",  # two-phase commit of multi-shard writes
    "citus.shard_count": str(SHARD_COUNT),
    "max_connections": "300",
    "max_worker_processes": "64",  # Citus' maintenance daemon: one per database
    "citus.enable_repartition_joins": "on",
    "wal_level": "logical",  # shard moves (rebalancing onto a worker added later)
}
PREFERRED_PORT = 58432


def bindir() -> Path:
    found = os.environ.get("JOBSET_CITUS_BINDIR") or os.environ.get("DEPLOYER_PG_BINDIR")
    if not found:
        raise RuntimeError("no Citus build: run scripts/citus and set JOBSET_CITUS_BINDIR to the bin directory it prints")
    if not (Path(found).parent / "lib" / "citus.so").is_file():
        raise RuntimeError(f"{found} has no Citus (no citus.so beside it): run scripts/citus")
    return Path(found)


@dataclass
class CitusCluster:
    base: Path

    def node(self, name: str) -> local.Cluster:
        return local.Cluster(self.base / name, settings=dict(SETTINGS))

    @property
    def nodes(self) -> list[local.Cluster]:
        return [self.node(n) for n in NODES]

    def url(self, dbname: str = "postgres", node: str = "coordinator") -> str:
        return self.node(node).url(dbname)

    def start(self) -> str:
        """Start the three nodes (made when missing) and register the workers in `postgres`."""
        bins = bindir()
        port = PREFERRED_PORT
        for cluster in self.nodes:
            if not cluster.initialized():
                def start(p: int, c: local.Cluster = cluster) -> None:
                    c.start(port=p, bindir=bins)
                port = local.start_on_free_port(start, port, lambda c=cluster: c.logfile) + 1
            else:
                cluster.start(bindir=bins)
                port = cluster.port + 1
        self.prepare("postgres")
        return self.url()

    def prepare(self, dbname: str, workers: int = 2) -> None:
        """Citus in `dbname` on every node, the coordinator and the first `workers` workers
        registered (Citus keeps its nodes per database: one cluster serves a database of one
        worker beside one of two)."""
        workers = [self.node(n) for n in NODES[1:1 + workers]]
        for cluster in self.nodes:
            with psycopg.connect(cluster.url(dbname), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS citus")
        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute("SELECT citus_set_coordinator_host('127.0.0.1', %s)", (self.node("coordinator").port,))
            for worker in workers:
                known = conn.execute("SELECT 1 FROM pg_dist_node WHERE nodeport = %s", (worker.port,)).fetchone()
                if not known:
                    conn.execute("SELECT citus_add_node('127.0.0.1', %s)", (worker.port,))

    def create_database(self, dbname: str, workers: int = 2) -> str:
        """A new database on every node, prepared for Citus; its coordinator URL."""
        for cluster in self.nodes:
            with psycopg.connect(cluster.url(), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{dbname}"')
        self.prepare(dbname, workers)
        return self.url(dbname)

    def drop_database(self, dbname: str) -> None:
        for cluster in self.nodes:
            if not cluster.running():
                continue
            with psycopg.connect(cluster.url(), autocommit=True) as conn:
                if cluster is not None and cluster.home.name == "coordinator":
                    conn.execute("DELETE FROM cron.job WHERE database = %s", (dbname,))
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop every node that runs (fast shutdown; immediate if that fails)."""
        for cluster in reversed(self.nodes):
            try:
                cluster.stop()
            except Exception:  # noqa: BLE001 - the others must stop too
                if cluster.initialized():
                    import subprocess
                    subprocess.run(local._as_server_user([str(bindir() / "pg_ctl"), "stop", "-m", "immediate",
                                                          "-D", str(cluster.datadir)]),
                                   capture_output=True, check=False)

    def destroy(self) -> None:
        self.stop()
        for cluster in self.nodes:
            shutil.rmtree(cluster.base, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)

    def describe(self) -> dict:
        return {name: {"port": self.node(name).port, "running": self.node(name).running()} for name in NODES}


@contextmanager
def throwaway() -> Iterator[CitusCluster]:
    """A new cluster in a temporary directory, stopped and removed however the block ends,
    and at the process' exit if the block never ends (a killed session's atexit)."""
    base = Path(tempfile.mkdtemp(prefix="jobset-citus-", dir="/tmp"))
    base.chmod(0o755)
    cluster = CitusCluster(base)
    atexit.register(cluster.destroy)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
        atexit.unregister(cluster.destroy)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop", "url", "status"):
        print("usage: python -m tests.citus start|stop|url|status DIR", file=sys.stderr)
        return 2
    command, base = argv[0], Path(argv[1]).resolve()
    cluster = CitusCluster(base)
    try:
        if command == "start":
            base.mkdir(parents=True, exist_ok=True)
            base.chmod(0o755)
            print(cluster.start())
        elif command == "stop":
            if base.exists():
                cluster.destroy()
        elif command == "url":
            print(cluster.url())
        else:
            print(json.dumps(cluster.describe()))
    except Exception as exc:  # noqa: BLE001 - one line, as every script here
        print(f"citus cluster: {command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
