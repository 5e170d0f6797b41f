"""pg_cron: where it lives, which of its jobs are ours, and bringing them in line.

A cron job is ours when it runs in the target database and its command calls our
runner. pg_cron lives either in the target database (cron.schedule) or in another one
named by cron.database_name (cron.schedule_in_database, through a second connection).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from deployer.db import connect, dsn_for_database, translated
from deployer.manifest import Manifest
from deployer.render import quote_ident, quote_literal


@dataclass(frozen=True)
class CronJob:
    name: str
    schedule: str
    command: str
    database: str
    active: bool = True
    jobid: int | None = None


@dataclass(frozen=True)
class CronChange:
    action: str  # 'schedule' or 'unschedule'
    job: CronJob

    def describe(self) -> str:
        if self.action == "schedule":
            return f"schedule {self.job.name} '{self.job.schedule}' with pg_cron"
        return f"unschedule {self.job.name} from pg_cron"


class CronTarget:
    """Where pg_cron is for one target database. `conn` is None when pg_cron is absent."""

    def __init__(self, conn: psycopg.Connection | None, database: str, local: bool, why: str = ""):
        self.conn = conn
        self.database = database
        self.local = local
        self.why = why

    @property
    def available(self) -> bool:
        return self.conn is not None

    def close(self) -> None:
        if self.conn is not None and not self.local:
            self.conn.close()


def locate(conn: psycopg.Connection, dsn: str) -> CronTarget:
    """Find pg_cron for the database `conn` is connected to."""
    with translated():
        row = conn.execute(
            "SELECT current_database() AS db,"
            " EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') AS here,"
            " current_setting('cron.database_name', true) AS cron_db"
        ).fetchone()
    database = row["db"]
    if row["here"]:
        return CronTarget(conn, database, local=True)
    if not row["cron_db"]:
        return CronTarget(None, database, local=False, why="pg_cron is not loaded on this server")
    other = connect(dsn_for_database(dsn, row["cron_db"]), autocommit=False)
    with translated():
        found = other.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_cron'").fetchone()
        other.rollback()
    if not found:
        other.close()
        return CronTarget(None, database, local=False, why=f"pg_cron is not created in database {row['cron_db']}")
    return CronTarget(other, database, local=False)


def command_prefix(manifest: Manifest) -> str:
    return f"CALL {quote_ident(manifest.settings['jobs_schema'])}.run_job("


def desired(manifest: Manifest, target: CronTarget) -> dict[str, CronJob]:
    """The cron jobs the manifest asks for, by cron job name."""
    out = {}
    prefix = command_prefix(manifest)
    for job in manifest.jobs.values():
        if not job.enabled:
            continue
        name = cron_name(manifest, job.name, target)
        command = f"{prefix}{quote_literal(job.name)}, p_executed_by => 'pg_cron')"
        out[name] = CronJob(name=name, schedule=job.schedule, command=command, database=target.database)
    return out


def cron_name(manifest: Manifest, job: str, target: CronTarget) -> str:
    """`jobs.expire_content`; with `@database` added when pg_cron serves several databases."""
    name = f"{manifest.settings['jobs_schema']}.{job}"
    return name if target.local else f"{name}@{target.database}"


def owned(manifest: Manifest, target: CronTarget) -> list[CronJob]:
    """Our cron jobs as pg_cron has them now, oldest first."""
    if not target.available:
        return []
    with translated():
        rows = target.conn.execute(
            "SELECT jobid, jobname, schedule, command, database, active FROM cron.job"
            " WHERE database = %s AND username = current_user AND starts_with(command, %s) ORDER BY jobid",
            (target.database, command_prefix(manifest)),
        ).fetchall()
    return [CronJob(r["jobname"], r["schedule"], r["command"], r["database"], r["active"], r["jobid"]) for r in rows]


def by_name(jobs: list[CronJob]) -> dict[str, CronJob]:
    """The first (oldest) cron job of each name."""
    out: dict[str, CronJob] = {}
    for job in jobs:
        out.setdefault(job.name, job)
    return out


def plan(manifest: Manifest, target: CronTarget) -> list[CronChange]:
    """What to change in pg_cron: schedule what differs, unschedule every other job of ours
    (unlisted, disabled, unnamed or duplicate), matched by jobid."""
    if not target.available:
        return []
    want, have = desired(manifest, target), owned(manifest, target)
    current = by_name(have)
    changes = []
    for name, job in want.items():
        now = current.get(name)
        if now is None or (now.schedule, now.command, now.active) != (job.schedule, job.command, True):
            changes.append(CronChange("schedule", job))
    kept = {current[name].jobid for name in want if name in current}
    changes += [CronChange("unschedule", job) for job in have if job.jobid not in kept]
    return changes


def apply(changes: list[CronChange], target: CronTarget) -> None:
    """Run the changes in the cron database's current transaction (the caller commits)."""
    with translated():
        for change in changes:
            job = change.job
            if change.action == "unschedule":
                target.conn.execute("SELECT cron.unschedule(%s)", (job.jobid,))
            elif target.local:
                target.conn.execute("SELECT cron.schedule(%s, %s, %s)", (job.name, job.schedule, job.command))
            else:
                target.conn.execute(
                    "SELECT cron.schedule_in_database(%s, %s, %s, %s)",
                    (job.name, job.schedule, job.command, job.database),
                )


def last_runs(target: CronTarget, jobids: list[int]) -> dict[int, dict[str, Any]]:
    """pg_cron's latest run of each of the given jobs."""
    if not target.available or not jobids:
        return {}
    with translated():
        rows = target.conn.execute(
            "SELECT DISTINCT ON (jobid) jobid, status, start_time, end_time, return_message"
            " FROM cron.job_run_details WHERE jobid = ANY(%s) ORDER BY jobid, start_time DESC NULLS LAST",
            (jobids,),
        ).fetchall()
    return {r["jobid"]: r for r in rows}
