"""pg_cron: where it lives, which of its jobs are ours, and bringing them in line.

A cron job is ours when it runs in the target database and its command calls our
runner. pg_cron lives either in the target database or in another one named by
cron.database_name (through a second connection); either way a job is scheduled with
cron.schedule_in_database, which names the role pg_cron runs it as (the job's `run_as`).

pg_cron shows each role only its own cron jobs (row security). A role that cannot see
every row (a monitor) reads them through jobs.cron_jobs() instead, which runs as the
job set's owner.
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
    username: str | None = None  # the role pg_cron runs it as
    last: dict[str, Any] | None = None  # pg_cron's latest run of it, when read with it


@dataclass(frozen=True)
class CronChange:
    action: str  # 'schedule' or 'unschedule'
    job: CronJob

    def describe(self) -> str:
        if self.action == "schedule":
            return f"schedule {self.job.name} '{self.job.schedule}' with pg_cron, as role {self.job.username}"
        return f"unschedule {self.job.name} from pg_cron"


class CronTarget:
    """Where pg_cron is for one target database. `conn` is None when pg_cron is absent."""

    def __init__(self, conn: psycopg.Connection | None, database: str, local: bool, why: str = "",
                 hidden: bool = False):
        self.conn = conn
        self.database = database
        self.local = local
        self.why = why
        self.hidden = hidden  # pg_cron may be there, but this role may not see where

    @property
    def available(self) -> bool:
        return self.conn is not None

    def close(self) -> None:
        if self.conn is not None and not self.local:
            self.conn.close()


def locate(conn: psycopg.Connection, dsn: str) -> CronTarget:
    """Find pg_cron for the database `conn` is connected to."""
    with translated():
        # cron.database_name is readable by superusers and pg_read_all_settings only.
        row = conn.execute(
            "SELECT current_database() AS db, e.here, CASE WHEN e.here THEN NULL WHEN r.readable"
            " THEN current_setting('cron.database_name', true) END AS cron_db, r.readable"
            " FROM (SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') AS here) AS e,"
            " (SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') AS readable"
            "    FROM pg_roles WHERE rolname = current_user) AS r"
        ).fetchone()
    database = row["db"]
    if row["here"]:
        return CronTarget(conn, database, local=True)
    if not row["readable"]:
        return CronTarget(None, database, local=False, hidden=True,
                          why="pg_cron is not in this database, and this role may not read cron.database_name")
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
        out[name] = CronJob(name=name, schedule=job.schedule, command=command, database=target.database,
                            username=job.run_as)
    return out


def cron_name(manifest: Manifest, job: str, target: CronTarget) -> str:
    """`jobs.expire_content`; with `@database` added when pg_cron serves several databases."""
    name = f"{manifest.settings['jobs_schema']}.{job}"
    return name if target.local else f"{name}@{target.database}"


def _sees_all(target: CronTarget) -> bool:
    """Whether this session sees every role's rows of cron.job (superuser or BYPASSRLS)."""
    row = target.conn.execute("SELECT rolsuper OR rolbypassrls AS ok FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row["ok"])


def _through_function(manifest: Manifest, target: CronTarget) -> str | None:
    """jobs.cron_jobs(), when this session should read our cron jobs through it: pg_cron is
    here, this role sees only its own rows, and it may execute the function."""
    if not target.local or _sees_all(target):
        return None
    fn = f"{quote_ident(manifest.settings['jobs_schema'])}.cron_jobs()"
    row = target.conn.execute(
        "SELECT to_regprocedure(%s) IS NOT NULL AND has_function_privilege(to_regprocedure(%s), 'EXECUTE') AS ok",
        (fn, fn)).fetchone()
    return fn if row["ok"] else None


def owned(manifest: Manifest, target: CronTarget) -> list[CronJob]:
    """Our cron jobs as pg_cron has them now, oldest first."""
    if not target.available:
        return []
    with translated():
        fn = _through_function(manifest, target)
        if fn:
            rows = target.conn.execute(f"SELECT * FROM {fn} ORDER BY jobid").fetchall()
        else:
            rows = target.conn.execute(
                "SELECT jobid, jobname, schedule, command, database, username, active FROM cron.job"
                " WHERE database = %s AND starts_with(command, %s) ORDER BY jobid",
                (target.database, command_prefix(manifest)),
            ).fetchall()
    return [CronJob(r["jobname"], r["schedule"], r["command"], r["database"], r["active"], r["jobid"], r["username"],
                    {"status": r["last_status"], "start_time": r["last_start"], "end_time": r["last_end"]}
                    if fn else None)
            for r in rows]


def by_name(jobs: list[CronJob], want: dict[str, CronJob] | None = None) -> dict[str, CronJob]:
    """The first (oldest) cron job of each name; of those run as the role `want` asks for
    when there is one."""
    out: dict[str, CronJob] = {}
    for job in jobs:
        wanted = (want or {}).get(job.name)
        if job.name not in out or (wanted and out[job.name].username != wanted.username
                                   and job.username == wanted.username):
            out[job.name] = job
    return out


def plan(manifest: Manifest, target: CronTarget) -> list[CronChange]:
    """What to change in pg_cron: schedule what differs, unschedule every other job of ours
    (unlisted, disabled, unnamed, duplicate or run as another role), matched by jobid."""
    if not target.available:
        return []
    want, have = desired(manifest, target), owned(manifest, target)
    current: dict[tuple[str, str | None], CronJob] = {}
    for job in have:
        current.setdefault((job.name, job.username), job)
    changes = []
    kept = set()
    for name, job in want.items():
        now = current.get((name, job.username))
        if now is not None:
            kept.add(now.jobid)
        if now is None or (now.schedule, now.command, now.active) != (job.schedule, job.command, True):
            changes.append(CronChange("schedule", job))
    changes += [CronChange("unschedule", job) for job in have if job.jobid not in kept]
    return changes


def apply(changes: list[CronChange], target: CronTarget) -> None:
    """Run the changes in the cron database's current transaction (the caller commits)."""
    with translated():
        for change in changes:
            job = change.job
            if change.action == "unschedule":
                target.conn.execute("SELECT cron.unschedule(%s)", (job.jobid,))
            else:
                # Scheduled as the job's role: pg_cron logs in as it to run the command.
                target.conn.execute(
                    "SELECT cron.schedule_in_database(%s, %s, %s, %s, %s)",
                    (job.name, job.schedule, job.command, job.database, job.username),
                )


def last_runs(target: CronTarget, jobs: list[CronJob]) -> dict[int, dict[str, Any]]:
    """pg_cron's latest run of each of the given jobs (read with them when owned() read
    them through jobs.cron_jobs())."""
    if not target.available or not jobs:
        return {}
    if all(j.last is not None for j in jobs):
        return {j.jobid: j.last for j in jobs if j.last["status"] is not None}
    jobids = [j.jobid for j in jobs]
    with translated():
        rows = target.conn.execute(
            "SELECT DISTINCT ON (jobid) jobid, status, start_time, end_time, return_message"
            " FROM cron.job_run_details WHERE jobid = ANY(%s) ORDER BY jobid, start_time DESC NULLS LAST",
            (jobids,),
        ).fetchall()
    return {r["jobid"]: r for r in rows}
