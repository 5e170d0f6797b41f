"""The job set's cost per row on a Citus cluster against one node (bench/README.md,
"Figures: Citus").

    JOBSET_CITUS_BINDIR=$(bash scripts/citus) python -m bench.citus [--users 10000] [--out FILE]

The same data, the demo seed (`deployer seed`, deterministic) at `--users` users, on three
databases: one node (a throwaway cluster of Debian's PostgreSQL 15), and a Citus cluster on
this machine (tests/citus.py: a coordinator and two workers) with one worker registered in
one database and both in another (Citus keeps its nodes per database). Each of the seven
jobs runs for real, in the manifest's order, through `CALL jobs.run_job` at the seed's
moment (on Citus with each job's batch_time at --citus-batch-time, 2 seconds, and its
min_batch_size at its batch_size: README, "Scaling out with Citus"); the figure is run_job's own duration (jobs.job_executions.duration_ms) and the rows
it changed (affected_count), so the cost per row is duration / affected. Every server runs
with deployer.local's development settings (fsync, synchronous_commit and full_page_writes
off) so that the figures compare the execution, not the disks. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from deployer import install, local, manifest
from deployer import seed as seed_mod
from tests import citus as citus_cluster

NOW = datetime(2026, 11, 29, 20, 0, tzinfo=timezone.utc)
JOBS = ["expire_content", "settle_games", "rollup_stats", "calculate_badges", "reset_bankrolls", "cleanup",
        "cleanup_media"]


def prepare(dsn: str, m: manifest.Manifest, users: int, batch_time: str | None = None) -> float:
    install.deploy(dsn, m, with_app_schema=True, with_schedule=False)
    t0 = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        seed_mod.seed(conn, users=users, seed=7, now=NOW, variables=m.template_vars())
        if batch_time:  # README, "Scaling out with Citus": batches sized for a batch's cost there
            conn.execute("UPDATE jobs.job_registry SET batch_time = %s::interval, min_batch_size = batch_size",
                         (batch_time,))
    return time.monotonic() - t0


def run_all(dsn: str) -> dict[str, dict]:
    out = {}
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        for job in JOBS:
            conn.execute("CALL jobs.run_job(%s, %s)", (job, NOW))
            row = conn.execute("SELECT status, affected_count, duration_ms, batches FROM jobs.job_executions"
                               " WHERE job_name = %s ORDER BY id DESC LIMIT 1", (job,)).fetchone()
            if row["status"] != "succeeded":
                raise SystemExit(f"bench.citus: {job} ended {row['status']} on {dsn}")
            out[job] = row
            print(f"  {job}: {row['affected_count']} rows in {row['duration_ms']} ms", file=sys.stderr)
    return out


def table(results: dict[str, dict[str, dict]]) -> str:
    sides = list(results)
    head = "| job | rows | " + " | ".join(f"{s}: ms, µs/row" for s in sides) + " | " + " | ".join(
        f"{s} / one node" for s in sides[1:]) + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(sides) - 1)]
    total = dict.fromkeys(sides, 0)
    for job in JOBS:
        rows = results[sides[0]][job]["affected_count"]
        cells = []
        for s in sides:
            ms = results[s][job]["duration_ms"]
            total[s] += ms
            cells.append(f"{ms:,} ms, {1000 * ms / rows:,.0f}" if rows else f"{ms:,} ms, -")
        ratios = [f"{results[s][job]['duration_ms'] / max(results[sides[0]][job]['duration_ms'], 1):.1f}x"
                  for s in sides[1:]]
        lines.append(f"| {job} | {rows:,} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    lines.append("| all seven | | " + " | ".join(f"{total[s]:,} ms" for s in sides) + " | " + " | ".join(
        f"{total[s] / max(total[sides[0]], 1):.1f}x" for s in sides[1:]) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.citus")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--citus-batch-time", default="2 seconds",
                        help="on Citus, each job's batch_time, its min_batch_size raised to its batch_size "
                             "('' keeps the manifest's)")
    args = parser.parse_args(argv)
    m = manifest.load(environment="test")
    results: dict[str, dict[str, dict]] = {}
    seeds: dict[str, float] = {}
    with local.throwaway("jobset-bench-one-", 59432) as one:
        with psycopg.connect(one.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        dsn = one.url("bench")
        print("one node", file=sys.stderr)
        seeds["one node"] = prepare(dsn, m, args.users)
        results["one node"] = run_all(dsn)
    given = os.environ.get("JOBSET_CITUS_DIR")
    cluster_cm = None
    if given:
        cluster = citus_cluster.CitusCluster(Path(given))
    else:
        cluster_cm = citus_cluster.throwaway()
        cluster = cluster_cm.__enter__()
    try:
        for workers in (1, 2):
            name = f"bench_citus_{workers}w_{os.getpid()}"
            label = f"Citus, {workers} worker{'s' if workers > 1 else ''}"
            print(label, file=sys.stderr)
            dsn = cluster.create_database(name, workers=workers)
            try:
                seeds[label] = prepare(dsn, m, args.users, args.citus_batch_time or None)
                results[label] = run_all(dsn)
            finally:
                cluster.drop_database(name)
    finally:
        if cluster_cm is not None:
            cluster_cm.__exit__(None, None, None)
    for job in JOBS:  # the same data and rules: the same rows changed everywhere
        counts = {s: results[s][job]["affected_count"] for s in results}
        if len(set(counts.values())) != 1:
            raise SystemExit(f"bench.citus: {job} changed different row counts: {counts}")
    load = os.getloadavg()
    report = (f"{args.users:,} users seeded (`deployer seed --seed 7`), jobs at {NOW.isoformat()}; on Citus "
              f"batch_time {args.citus_batch_time or 'as the manifest says'}; "
              f"load average at the end {load[0]:.1f}, {os.cpu_count()} cores; seed "
              + ", ".join(f"{s} {t:.0f} s" for s, t in seeds.items()) + "\n\n" + table(results) + "\n")
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
