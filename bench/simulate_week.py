"""python -m bench.simulate_week --users N: how long `deployer simulate` takes over a week.

On a throwaway local cluster (the settings of `deployer db start`: fsync off), the reference
schema and the job set are deployed, `deployer seed` fills it with N users (--seed) at the demo's
moment (a Sunday 20:00 UTC), and a week from that moment is simulated into an empty database
of the same cluster, as `deployer simulate --into` does. Prints the copy's time, the fires'
time and what the week did, as a Markdown table row (bench/README.md, "Figures: simulate")."""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timedelta, timezone

import psycopg

from deployer import demo, install, local, manifest, simulate
from deployer.db import dsn_for_database

SUNDAY = datetime(2026, 11, 29, 20, 0, tzinfo=timezone.utc)


def measure(users: int, seed: int) -> str:
    m = manifest.load()
    with local.throwaway("jobset-simweek-", 56900) as cluster:
        source = cluster.url()
        install.deploy(source, m, with_app_schema=True, with_schedule=False)
        began = time.monotonic()
        demo.seed_database(source, m, users, seed, SUNDAY)
        seeded = time.monotonic() - began
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute("CREATE DATABASE simulated")
            size = conn.execute("SELECT pg_size_pretty(pg_database_size('postgres'))").fetchone()[0]
        rules = simulate.check_source(source, m)
        sim = simulate.simulate(source, m, SUNDAY, SUNDAY + timedelta(days=7), simulate.chosen(m, None), rules,
                                into=dsn_for_database(source, "simulated"))
    fires = len(sim.steps)
    affected = sum(s.affected for s in sim.steps)
    failed = len(sim.failed())
    slowest = max(sim.summary(), key=lambda r: r["duration_ms"])
    fired = sim.seconds - sim.copy_seconds
    return (f"| {users:,} | {size} | {seeded:.0f} s | {sim.copy_seconds:.1f} s | {fired:.1f} s | {sim.seconds:.1f} s "
            f"| {fires} | {failed} | {affected:,} | {slowest['job']} {slowest['duration_ms'] / 1000:.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.simulate_week", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[2000])
    parser.add_argument("--seed", type=int, default=1, help="the seed's random seed (deployer seed --seed)")
    args = parser.parse_args()
    print("| users | source size | seed | copy | fires | simulate in all | runs | failed | rows changed "
          "| slowest job (sum) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for users in args.users:
        print(measure(users, args.seed), flush=True)


if __name__ == "__main__":
    main()
