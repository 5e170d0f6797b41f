"""python -m bench.simulate_week --users N: how long `deployer simulate` takes over a week.

On a throwaway local cluster (the settings of `deployer db start`: fsync off), the reference
schema and the job set are deployed, `deployer seed` fills it with N users (--seed) at the
bench's SEED_NOW (a Wednesday noon: the week ahead holds Sunday's games and Monday's reset),
and the week from that moment is simulated into an empty database of the same cluster, as
`deployer simulate --into` does. `--source DSN` simulates
from a database seeded beforehand instead (on the same server: its copy goes beside it).
Prints the seed's time, the copy's, the fires' and what the week did, as a Markdown table
row (bench/README.md, "Figures: simulate"), then each job's fires, rows changed and time;
`--json FILE` keeps the whole simulation (`deployer simulate --json`'s shape) there."""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta

import psycopg

from bench.common import SEED_NOW
from deployer import demo, install, local, manifest, seed, simulate
from deployer.db import dsn_for_database

COPY = "jobset_simulate_week"


def week(source: str, m: manifest.Manifest, seeded: float | None, keep: str | None = None) -> str:
    """Simulate the week from `source` into a new database beside it; the report's row."""
    with psycopg.connect(source, autocommit=True) as conn:
        users = seed.app_users(conn, m.settings["app_schema"])
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
        conn.execute(f"DROP DATABASE IF EXISTS {COPY}")
        conn.execute(f"CREATE DATABASE {COPY}")
    try:
        rules = simulate.check_source(source, m)
        sim = simulate.simulate(source, m, SEED_NOW, SEED_NOW + timedelta(days=7), simulate.chosen(m, None), rules,
                                into=dsn_for_database(source, COPY))
    finally:
        with psycopg.connect(source, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {COPY} WITH (FORCE)")
    if keep:
        with open(keep, "w") as out:
            json.dump(sim.as_json(), out, indent=1, default=str)
    slowest = max(sim.summary(), key=lambda r: r["duration_ms"])
    jobs = "\n".join(f"  {r['job']}: {r['fires']} fires, {r['affected']:,} rows, {r['duration_ms'] / 1000:.1f} s"
                     for r in sim.summary())
    fired = sim.seconds - sim.copy_seconds
    took = "-" if seeded is None else f"{seeded:.0f} s"
    return (f"| {users:,} | {size} | {took} | {sim.copy_seconds:.1f} s | {fired:.1f} s | {sim.seconds:.1f} s "
            f"| {len(sim.steps)} | {len(sim.failed())} | {sum(s.affected for s in sim.steps):,} "
            f"| {slowest['job']} {slowest['duration_ms'] / 1000:.1f} s |\n\n{jobs}")


def seeded_week(users: int, seed_value: int, keep: str | None = None) -> str:
    m = manifest.load()
    with local.throwaway("jobset-simweek-", 56900) as cluster:
        source = cluster.url()
        install.deploy(source, m, with_app_schema=True, with_schedule=False)
        began = time.monotonic()
        demo.seed_database(source, m, users, seed_value, SEED_NOW)
        return week(source, m, time.monotonic() - began, keep)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.simulate_week", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[2000])
    parser.add_argument("--seed", type=int, default=1, help="the seed's random seed (deployer seed --seed)")
    parser.add_argument("--source", help="simulate from this database, seeded at SEED_NOW, instead")
    parser.add_argument("--json", metavar="FILE", help="keep the (last) simulation's timeline and summary there")
    args = parser.parse_args()
    print("| users | source size | seed | copy | fires | simulate in all | runs | failed | rows changed "
          "| slowest job (sum) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    if args.source:
        print(week(args.source, manifest.load(), None, args.json), flush=True)
        return
    for users in args.users:
        print(seeded_week(users, args.seed, args.json), flush=True)


if __name__ == "__main__":
    main()
