"""What reading jobs.job_health costs as the run history grows.

`python -m bench.health [--rows N ...]` starts a throwaway cluster, deploys the job set,
and for each history size fills jobs.job_executions with that many runs in the shares a
real schedule makes (expire_content every minute, settle_games every 30 minutes, the hourly
jobs, cleanup and cleanup_media daily; one run in 20 skipped, one in 50 failed, one in 997
abandoned), then times `SELECT * FROM jobs.job_health` (median of 15 reads after 3 warm
ones) and prints one line per size. The view should cost what the number of jobs is: the
same at a million rows as at none.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg
from psycopg.rows import dict_row

from deployer import install, local, manifest

FILL = """
INSERT INTO jobs.job_executions (job_name, status, success, executed_at, finished_at, duration_ms, affected_count)
SELECT j.name, s.status, s.status <> 'failed', now() - make_interval(secs => g * 60), now() - make_interval(secs => g * 60),
       10, 1
  FROM generate_series(1, %(rows)s) AS g
 CROSS JOIN LATERAL (SELECT CASE WHEN g %% 1440 = 0 THEN 'cleanup' WHEN g %% 1440 = 1 THEN 'cleanup_media'
                                 WHEN g %% 60 = 2 THEN 'rollup_stats' WHEN g %% 60 = 3 THEN 'calculate_badges'
                                 WHEN g %% 60 = 4 THEN 'reset_bankrolls' WHEN g %% 30 = 5 THEN 'settle_games'
                                 ELSE 'expire_content' END AS name) AS j
 CROSS JOIN LATERAL (SELECT CASE WHEN g %% 997 = 0 THEN 'abandoned' WHEN g %% 50 = 0 THEN 'failed'
                                 WHEN g %% 20 = 0 THEN 'skipped' ELSE 'succeeded' END AS status) AS s
"""


def measure(conn: psycopg.Connection) -> float:
    for _ in range(3):
        conn.execute("SELECT * FROM jobs.job_health").fetchall()
    times = []
    for _ in range(15):
        started = time.perf_counter()
        conn.execute("SELECT * FROM jobs.job_health").fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[0, 10_000, 1_050_000])
    args = parser.parse_args()
    m = manifest.load(environment="test")
    with local.throwaway("jobset-bench-health-", 59532) as cluster:
        install.deploy(cluster.url(), m, with_app_schema=True, with_schedule=False)
        with psycopg.connect(cluster.url(), autocommit=True, row_factory=dict_row) as conn:
            print(f"{'runs in history':>16} {'job_health, median ms':>22}  plan uses JIT")
            for rows in args.rows:
                conn.execute("TRUNCATE jobs.job_executions")
                if rows:
                    conn.execute(FILL, {"rows": rows})
                conn.execute("VACUUM ANALYZE jobs.job_executions")
                ms = measure(conn)
                plan = "\n".join(r["QUERY PLAN"] for r in conn.execute(
                    "EXPLAIN (ANALYZE, FORMAT TEXT) SELECT * FROM jobs.job_health").fetchall())
                print(f"{rows:>16,} {ms:>22.1f}  {'yes' if 'JIT:' in plan else 'no'}")


if __name__ == "__main__":
    main()
