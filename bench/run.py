"""Benchmarks: seeding, and each job's dry and real run, at a few sizes.

    .venv/bin/python bench/run.py [--users 10000 100000] [--seed 1]

Starts a throwaway local cluster (the same settings as `deployer db start`), and for each
size: a fresh database, deploy with the reference schema, seed, then every job as a dry
run and as a real run (CALL jobs.run_job, batches as in the manifest) at a fixed moment.
Prints one Markdown table; the figures in bench/README.md come from it.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg

from deployer import install, manifest, run
from deployer.db import dsn_for_database
from deployer.demo import seed_database
from deployer.local import Cluster, _free_port

SEED_NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)  # a Wednesday


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def bench_size(admin: str, m: manifest.Manifest, users: int, seed: int) -> list[str]:
    name = f"bench_{users}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = dsn_for_database(admin, name)
    _, deploy_s = timed(install.deploy, dsn, m, with_app_schema=True)
    counts, seed_s = timed(seed_database, dsn, m, users, seed, SEED_NOW)
    rows = [f"| {users:,} | seed | {seed_s:.1f} s | {sum(counts.values()):,} rows in all | |",
            f"| {users:,} | deploy | {deploy_s * 1000:.0f} ms | | |"]
    moments = {"expire_content": SEED_NOW + timedelta(days=1), "reset_bankrolls": SEED_NOW + timedelta(days=5)}
    for job, now in moments.items():
        preview, dry_s = timed(run.dry_run, dsn, m, job, now, None)
        result, real_s = timed(run.real_run, dsn, m, job, now, None)
        same = "same" if (preview.affected, preview.details) == (result.affected, result.details) else "DIFFERENT"
        rows.append(f"| {users:,} | {job} dry run | {dry_s * 1000:.0f} ms | {preview.affected:,} affected | |")
        rows.append(f"| {users:,} | {job} real run | {real_s * 1000:.0f} ms | {result.affected:,} affected, "
                    f"{result.batches} batches | {same} as the dry run |")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DELETE FROM cron.job WHERE database = %s", (name,))
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="jobset-bench-", dir="/tmp"))
    home.chmod(0o755)
    cluster = Cluster(home)
    try:
        cluster.start(port=_free_port(56432))
        m = manifest.load()
        print("| users | step | time | result | note |")
        print("|---|---|---|---|---|")
        for users in args.users:
            for line in bench_size(cluster.url(), m, users, args.seed):
                print(line, flush=True)
    finally:
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
