"""pg_cron: where it lives, which of its jobs are ours, and bringing them in line.

A cron job is ours when it runs in the target database and its command calls our
runner. pg_cron lives either in the target database or in another one named by
cron.database_name (through a second connection); either way a job is scheduled with
cron.schedule_in_database as the deploying role itself: pg_cron lets only a superuser
schedule a job for another role, and Supabase's `postgres` is not one. The command switches
to the job's `run_as` role and then calls the runner, in one statement:

    DO $jobset$BEGIN SET ROLE jobset_runner; CALL jobs.run_job('expire_content', p_executed_by => 'pg_cron'); END$jobset$

pg_cron sends a command as one simple query. Two statements (`SET ROLE …; CALL …`) would
make it an implicit transaction block, in which run_job's first COMMIT fails; one DO block
is a single top-level statement, so the procedure it calls may commit. The deploying role
must be a member of the run_as role for SET ROLE (deploy grants that membership); the run
then has the run_as role's rights only, which `job_executions.run_as` records.

pg_cron shows each role only its own cron jobs (row security). A role that cannot see
every row (a monitor) reads them through jobs.cron_jobs() instead, which runs as the
job set's owner.

pg_cron's launcher keeps the jobs in memory and reads cron.job again when told that the
table changed (a relation cache invalidation, which cron.schedule and cron.unschedule
send). pg_cron 1.4 to 1.6 miss that message when the launcher fell behind the server's
invalidation queue (4096 messages, for every database of the cluster: a deploy with the
app schema, a migration) between two of its reads, about a second apart: PostgreSQL then
tells it to drop every cache at once, which pg_cron ignores (src/job_metadata.c,
InvalidateJobCacheCallback, with InvalidOid). A job scheduled then does not start until
the next change to cron.job; job_health calls it overdue. So `deploy` schedules an overdue
job again, unchanged: that change makes the launcher read the table anew. Nothing tells
from outside which jobs the launcher holds; that it runs at all, in pg_cron's database,
`launcher_running` tells (status and deploy say when it does not).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import psycopg

from deployer.db import connect, dsn_for_database, translated
from deployer.manifest import Manifest
from deployer.render import quote_ident, quote_literal

DOLLAR_TAG = "$jobset$"
SET_ROLE_RE = re.compile(r'SET ROLE (?:"((?:[^"]|"")+)"|([a-z_][a-z0-9_$]*));')


@dataclass(frozen=True)
class CronJob:
    name: str
    schedule: str
    command: str
    database: str
    active: bool = True
    jobid: int | None = None
    username: str | None = None  # the role pg_cron logs in as (who scheduled it)
    last: dict[str, Any] | None = None  # pg_cron's latest run of it, when read with it

    @property
    def run_as(self) -> str | None:
        """The role the job's work is done as: the command's SET ROLE, else (a command of
        an earlier release, a bare CALL) the role pg_cron logs in as."""
        found = SET_ROLE_RE.search(self.command)
        if not found:
            return self.username
        return found.group(1).replace('""', '"') if found.group(1) is not None else found.group(2)


@dataclass(frozen=True)
class CronChange:
    action: str  # 'schedule' or 'unschedule'
    job: CronJob
    again: bool = False  # scheduled as it is, for pg_cron to read it anew (an overdue job)

    def describe(self) -> str:
        if self.again:
            return f"schedule {self.job.name} with pg_cron again, unchanged: it is overdue (pg_cron may have missed it)"
        if self.action == "schedule":
            return f"schedule {self.job.name} '{self.job.schedule}' with pg_cron, as role {self.job.run_as}"
        return f"unschedule {self.job.name} from pg_cron"


class CronTarget:
    """Where pg_cron is for one target database. `conn` is None when pg_cron is absent."""

    def __init__(self, conn: psycopg.Connection | None, database: str, local: bool, why: str = "",
                 hidden: bool = False, role: str | None = None):
        self.conn = conn
        self.database = database
        self.local = local
        self.why = why
        self.hidden = hidden  # pg_cron may be there, but this role may not see where
        self.role = role  # who this session is in pg_cron's database: the role it schedules as

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
            "SELECT current_database() AS db, current_user AS role, e.here, CASE WHEN e.here THEN NULL WHEN r.readable"
            " THEN current_setting('cron.database_name', true) END AS cron_db, r.readable"
            " FROM (SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') AS here) AS e,"
            " (SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') AS readable"
            "    FROM pg_roles WHERE rolname = current_user) AS r"
        ).fetchone()
    database = row["db"]
    if row["here"]:
        return CronTarget(conn, database, local=True, role=row["role"])
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
    return CronTarget(other, database, local=False, role=row["role"])


def runner_call(manifest: Manifest) -> str:
    """What every command of ours contains: the call of the runner."""
    return f"CALL {quote_ident(manifest.settings['jobs_schema'])}.run_job("


def command(manifest: Manifest, job: str, run_as: str) -> str:
    """pg_cron's command for a job: switch to its run_as role, then run it (see above)."""
    return (f"DO {DOLLAR_TAG}BEGIN SET ROLE {quote_ident(run_as)}; "
            f"{runner_call(manifest)}{quote_literal(job)}, p_executed_by => 'pg_cron'); END{DOLLAR_TAG}")


def desired(manifest: Manifest, target: CronTarget) -> dict[str, CronJob]:
    """The cron jobs the manifest asks for, by cron job name, scheduled as this session's role."""
    out = {}
    for job in manifest.jobs.values():
        if not job.enabled:
            continue
        name = cron_name(manifest, job.name, target)
        out[name] = CronJob(name=name, schedule=job.schedule, command=command(manifest, job.name, job.run_as),
                            database=target.database, username=target.role)
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
                " WHERE database = %s AND strpos(command, %s) > 0 ORDER BY jobid",
                (target.database, runner_call(manifest)),
            ).fetchall()
    return [CronJob(r["jobname"], r["schedule"], r["command"], r["database"], r["active"], r["jobid"], r["username"],
                    {"status": r["last_status"], "start_time": r["last_start"], "end_time": r["last_end"]}
                    if fn else None)
            for r in rows]


def by_name(jobs: list[CronJob], want: dict[str, CronJob] | None = None) -> dict[str, CronJob]:
    """The first (oldest) cron job of each name; of those with the command `want` asks for
    when there is one."""
    out: dict[str, CronJob] = {}
    for job in jobs:
        wanted = (want or {}).get(job.name)
        if job.name not in out or (wanted and out[job.name].command != wanted.command
                                   and job.command == wanted.command):
            out[job.name] = job
    return out


def plan(manifest: Manifest, target: CronTarget, *, anyone: bool = False, again: Collection[str] = ()
         ) -> list[CronChange]:
    """What to change in pg_cron: schedule what differs, unschedule every other job of ours
    (unlisted, disabled, unnamed, duplicate or scheduled by another role), matched by jobid.
    A deploy keeps only the cron jobs this session's role scheduled (it can change no other
    role's); with anyone=True (status, read by whoever) a cron job counts whoever scheduled it.
    The jobs named in `again` (cron job names) are scheduled again where pg_cron holds them
    as they should be (see above)."""
    if not target.available:
        return []
    want, have = desired(manifest, target), owned(manifest, target)
    current: dict[str, CronJob] = {}
    for job in have:
        if anyone or job.username == target.role:
            current.setdefault(job.name, job)
    changes = []
    kept = set()
    for name, job in want.items():
        now = current.get(name)
        # A paused entry is replaced: pg_cron's schedule upsert keeps `active` as it was.
        if now is not None and now.active:
            kept.add(now.jobid)
        if now is None or (now.schedule, now.command, now.active) != (job.schedule, job.command, True):
            changes.append(CronChange("schedule", job))
        elif name in again:
            changes.append(CronChange("schedule", job, again=True))
    return [CronChange("unschedule", job) for job in have if job.jobid not in kept] + changes


# pg_cron's launcher as pg_stat_activity shows it to any role: a role without
# pg_read_all_stats sees no backend_type of another role's backend, but its database and
# application_name, which the launcher sets (1.4 and 1.6 alike).
LAUNCHER_SQL = ("SELECT EXISTS (SELECT FROM pg_catalog.pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'pg_cron scheduler'"
                " AND coalesce(backend_type, 'pg_cron launcher') = 'pg_cron launcher') AS up")


LAUNCHER_MISSING = ("pg_cron must be in shared_preload_libraries, with cron.database_name naming that database, and "
                    "a background worker slot free for it: max_worker_processes")


def launcher_running(target: CronTarget) -> bool | None:
    """Whether pg_cron's launcher, which starts every job, runs connected to pg_cron's
    database (None where pg_cron is not found). Without it nothing scheduled ever starts: it
    is missing when pg_cron is not in shared_preload_libraries, or when no background worker
    slot was free for it (max_worker_processes)."""
    if not target.available:
        return None
    with translated():
        return bool(target.conn.execute(LAUNCHER_SQL).fetchone()["up"])


def apply(changes: list[CronChange], target: CronTarget) -> None:
    """Run the changes in the cron database's current transaction (the caller commits)."""
    with translated():
        for change in changes:
            job = change.job
            if change.action == "unschedule":
                target.conn.execute("SELECT cron.unschedule(%s)", (job.jobid,))
            else:
                # No username: pg_cron refuses one from anyone but a superuser, and logs in as
                # the role that schedules; the command switches to the run_as role.
                target.conn.execute(
                    "SELECT cron.schedule_in_database(%s, %s, %s, %s, NULL, true)",
                    (job.name, job.schedule, job.command, job.database),
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
