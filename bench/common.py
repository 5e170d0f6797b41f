"""What every scenario shares: the moment the data is relative to, timing, connections,
and the result type a scenario returns."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg

# Every template's data is relative to this moment (a Wednesday); the jobs run at it.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
# The demo seed's moment, and when each job finds work in it (as the old bench/run.py did).
SEED_NOW = NOW
DEMO_RUN_AT = {"expire_content": SEED_NOW + timedelta(days=1), "reset_bankrolls": SEED_NOW + timedelta(days=5)}


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """fn's result and its wall time in seconds."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


def connect(dsn: str, app_schema: str = "public") -> psycopg.Connection:
    """An autocommit connection whose search_path finds the app's tables (and, through it,
    SnapBet's triggers find theirs)."""
    return psycopg.connect(dsn, autocommit=True, options=f"-c search_path={app_schema},pg_catalog")


CALL_JOB = "CALL jobs.run_job(%s, %s)"


def call_job(dsn: str, job: str, now: datetime) -> None:
    """Our run: CALL jobs.run_job(job, now), as pg_cron does."""
    with connect(dsn) as conn:
        conn.execute(CALL_JOB, (job, now))


def measured(dsn: str, statement: str, params: Any) -> dict[str, float]:
    """Run one statement on a connection of its own: its wall time, the WAL the cluster wrote
    meanwhile (nothing else runs) and the database's buffer accesses (hit or read), flushed
    from this backend's statistics before they are read."""
    blocks = "SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = current_database()"
    with connect(dsn) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        start_lsn, start_blocks = conn.execute(f"SELECT pg_current_wal_lsn(), ({blocks})").fetchone()
        started = time.perf_counter()
        conn.execute(statement, params)
        seconds = time.perf_counter() - started
        conn.execute("SELECT pg_stat_force_next_flush()")
        wal, end_blocks = conn.execute(f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s), ({blocks})",
                                       (start_lsn,)).fetchone()
    return {"seconds": seconds, "wal": float(wal), "blocks": float(end_blocks - start_blocks)}


def last_run(dsn: str, job: str) -> dict[str, Any]:
    """The latest recorded run of a job: status, affected, batches, details."""
    with connect(dsn) as conn:
        row = conn.execute(
            "SELECT status, affected_count, batches, details FROM jobs.job_executions"
            " WHERE job_name = %s ORDER BY id DESC LIMIT 1", (job,)).fetchone()
    return {"status": row[0], "affected": row[1], "batches": row[2], "details": row[3]} if row else {}


@dataclass
class Section:
    """One scenario's results: rows of raw values (the test reads them), how to show
    them (columns: (key, heading) pairs), and notes under the table."""

    scenario: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    goals: list[str] = field(default_factory=list)  # one line per goal: met or missed, and why
    seconds: float = 0.0


@dataclass
class Context:
    """What a scenario gets: the bench cluster, the templates, the manifest, the scale, how
    many runs to take the median of, where to save query plans, and the jobs to compare
    (None: all)."""

    bench: Any      # bench.cluster.BenchCluster
    templates: Any  # bench.data.Templates
    manifest: Any   # deployer.manifest.Manifest
    scale: Any      # bench.scales.Scale
    runs: int
    plans_dir: Any  # pathlib.Path
    jobs: Any = None  # list[str] | None
