"""Reading the job set's state: history of runs, the schedule, overall health."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cron_descriptor import get_description
from croniter import croniter

from deployer import schedule
from deployer.db import connect, exists, translated
from deployer.errors import ConfigError
from deployer.manifest import Manifest
from deployer.render import quote_ident

HISTORY_COLUMNS = (
    "id, job_name, status, success, affected_count, batches, batch_sizes, duration_ms, executed_at, finished_at,"
    " executed_by, message, error, sqlstate, error_context, details, params"
)


def _require_jobs_schema(conn, manifest: Manifest) -> str:
    js = manifest.settings["jobs_schema"]
    if not exists(conn, "table", f"{quote_ident(js)}.job_executions"):
        raise ConfigError("the job set is not deployed in this database: run `deployer deploy` first")
    return js


def history(dsn: str, manifest: Manifest, job: str | None, limit: int) -> list[dict[str, Any]]:
    """The latest runs, newest first, of one job or all."""
    if job is not None:
        manifest.job(job)
    with connect(dsn) as conn, translated():
        js = _require_jobs_schema(conn, manifest)
        return conn.execute(
            f"SELECT {HISTORY_COLUMNS} FROM {quote_ident(js)}.job_executions"
            " WHERE %s::text IS NULL OR job_name = %s ORDER BY executed_at DESC, id DESC LIMIT %s",
            (job, job, limit),
        ).fetchall()


def describe(expr: str) -> str:
    try:
        return get_description(expr)
    except Exception:  # noqa: BLE001 - a description is a nicety; pg_cron macros have none
        return expr


def next_run(expr: str, after: datetime) -> datetime | None:
    """pg_cron runs in UTC (1.4 has no time zones)."""
    if expr.startswith("@"):
        expr = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0",
                "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}.get(expr, "")
        if not expr:
            return None
    return croniter(expr, after.astimezone(timezone.utc)).get_next(datetime)


def schedule_rows(dsn: str, manifest: Manifest) -> list[dict[str, Any]]:
    """One row per job of the manifest: cron expression, readable text, next run, last status."""
    now = datetime.now(timezone.utc)
    conn = connect(dsn)
    target = None
    try:
        with translated():
            js = _require_jobs_schema(conn, manifest)
            target = schedule.locate(conn, dsn)
            cron = schedule.by_name(schedule.owned(manifest, target))
            last = {
                r["job_name"]: r
                for r in conn.execute(
                    f"SELECT DISTINCT ON (job_name) job_name, status, executed_at"
                    f" FROM {quote_ident(js)}.job_executions ORDER BY job_name, executed_at DESC, id DESC"
                ).fetchall()
            }
            registry = {
                r["job_name"]: r
                for r in conn.execute(f"SELECT job_name, schedule, enabled FROM {quote_ident(js)}.job_registry")
            }
            wanted = schedule.desired(manifest, target)
            cron_runs = schedule.last_runs(target, [j.jobid for j in cron.values() if j.jobid is not None])
    finally:
        if target is not None:
            target.close()
        conn.close()
    rows = []
    for job in manifest.jobs.values():
        name = schedule.cron_name(manifest, job.name, target)
        scheduled = cron.get(name)
        expr = scheduled.schedule if scheduled else job.schedule
        run = last.get(job.name)
        pg_cron_run = cron_runs.get(scheduled.jobid) if scheduled else None
        rows.append({
            "job": job.name,
            "cron_job": name if scheduled else None,
            "schedule": expr,
            "description": describe(expr),
            "enabled": job.enabled,
            "deployed": job.name in registry,
            "scheduled": scheduled is not None and scheduled.active,
            "next_run": next_run(expr, now) if scheduled and scheduled.active else None,
            "last_status": run["status"] if run else None,
            "last_run": run["executed_at"] if run else None,
            "last_cron_status": pg_cron_run["status"] if pg_cron_run else None,
            "in_sync": _in_sync(scheduled, wanted.get(name)) if job.enabled else scheduled is None,
        })
    if not target.available:
        for row in rows:
            row["note"] = target.why
    return rows


def _in_sync(have: schedule.CronJob | None, want: schedule.CronJob | None) -> bool:
    if have is None or want is None:
        return False
    return (have.schedule, have.command, have.active) == (want.schedule, want.command, True)


def health(dsn: str, manifest: Manifest) -> dict[str, Any]:
    """Healthy when every enabled job is deployed and scheduled and its last run did not fail."""
    rows = schedule_rows(dsn, manifest)
    problems = []
    for row in rows:
        if not row["enabled"]:
            continue
        if not row["deployed"]:
            problems.append(f"{row['job']}: not deployed")
        elif not row["scheduled"]:
            problems.append(f"{row['job']}: not scheduled ({row.get('note') or 'run `deployer deploy`'})")
        if row["last_status"] in ("failed", "abandoned"):
            problems.append(f"{row['job']}: last run {row['last_status']}")
    return {"healthy": not problems, "problems": problems, "jobs": rows}
