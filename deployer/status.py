"""Reading the job set's state: history of runs, the schedule, drift, overall health. A
reader: it never imports the writer, deployer.install (which reads drift from here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from cron_descriptor import get_description

from deployer import citus, cron, schedule, units
from deployer.db import connect, exists, translated
from deployer.errors import ConfigError
from deployer.manifest import Manifest
from deployer.render import quote_ident

HISTORY_COLUMNS = (
    "id, job_name, status, success, affected_count, batches, batch_sizes, duration_ms, executed_at, finished_at,"
    " executed_by, message, error, sqlstate, error_context, details, params"
)


def require_jobs_schema(conn, manifest: Manifest) -> str:
    js = manifest.settings["jobs_schema"]
    if not exists(conn, "table", f"{quote_ident(js)}.job_executions"):
        raise ConfigError("the job set is not deployed in this database: run `deployer deploy` first")
    return js


def history(dsn: str, manifest: Manifest, job: str | None, limit: int) -> list[dict[str, Any]]:
    """The latest runs, newest first, of one job or all."""
    if job is not None:
        manifest.job(job)
    with connect(dsn) as conn, translated():
        return history_rows(conn, require_jobs_schema(conn, manifest), job, limit)


def history_rows(conn, js: str, job: str | None, limit: int) -> list[dict[str, Any]]:
    """The latest `limit` runs of `job` (or of every job) over an open connection."""
    return conn.execute(
        f"SELECT {HISTORY_COLUMNS} FROM {quote_ident(js)}.job_executions"
        " WHERE %s::text IS NULL OR job_name = %s ORDER BY executed_at DESC, id DESC LIMIT %s",
        (job, job, limit),
    ).fetchall()


# The macros whose five fields cron_descriptor reads as pg_cron does (1.6 never fires @yearly).
MACRO_FIELDS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
                "@monthly": "0 0 1 * *"}
PLAIN_ITEM = re.compile(r"^(?:\*(?:/[0-9]+)?|[A-Za-z0-9]+(?:-[A-Za-z0-9]+(?:/[0-9]+)?)?)$")


def describe(expr: str) -> str:
    """The schedule in words (cron_descriptor) where those words are what pg_cron does;
    otherwise the expression itself. Words only for a plain schedule that every pg_cron
    takes alike, nothing skipped or bent (deployer.cron's notes), `*` alone in its field,
    and at most one of the day fields restricted (with both, pg_cron's AND or OR is not
    what the words say)."""
    fields = MACRO_FIELDS.get(expr, expr).split(" ")
    entries = [cron.parse(" ".join(fields), version) for version in cron.VERSIONS]
    if (len(fields) != 5 or any(e is None or e.notes or e.seconds for e in entries)
            or any(not PLAIN_ITEM.match(item) or (item.startswith("*") and "," in field)
                   for field in fields for item in field.split(","))
            or "*" not in (fields[2], fields[4])):
        return expr
    try:
        return get_description(" ".join(fields))
    except Exception:  # noqa: BLE001 - a description is a nicety
        return expr


def next_run(conn, js: str, expr: str, after: datetime) -> datetime | None:
    """The schedule's first fire after `after`, as this server's pg_cron reads it (its
    version and cron.timezone): jobs.cron_fire, the one reading job_health uses too.
    None for @reboot and a schedule that never fires."""
    return conn.execute(f"SELECT {quote_ident(js)}.cron_fire(%s, %s) AS next", (expr, after)).fetchone()["next"]


@contextmanager
def _session(dsn: str, manifest: Manifest) -> Iterator[tuple[Any, str, schedule.CronTarget]]:
    """A connection to the deployed job set, its schema, and where pg_cron lives; closed after."""
    conn = connect(dsn)
    target = None
    try:
        with translated():
            js = require_jobs_schema(conn, manifest)
            target = schedule.locate(conn, dsn)
            yield conn, js, target
    finally:
        if target is not None:
            target.close()
        conn.close()


def schedule_rows(dsn: str, manifest: Manifest) -> list[dict[str, Any]]:
    """One row per job of the manifest: cron expression, readable text, next run, last status."""
    with _session(dsn, manifest) as (conn, js, target):
        return _schedule_rows(conn, js, target, manifest)


def _schedule_rows(conn, js: str, target: schedule.CronTarget, manifest: Manifest) -> list[dict[str, Any]]:
    now = datetime.now(timezone.utc)
    wanted = schedule.desired(manifest, target)
    cron = schedule.by_name(schedule.owned(manifest, target), wanted)
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
    cron_runs = schedule.last_runs(target, [j for j in cron.values() if j.jobid is not None])
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
            "scheduled": None if target.hidden else scheduled is not None and scheduled.active,
            "run_as": scheduled.run_as if scheduled else job.run_as,
            "next_run": next_run(conn, js, expr, now) if scheduled and scheduled.active else None,
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
    # Who scheduled it (the role pg_cron logs in as) is not compared: the deploying role's
    # own, whoever reads. The role the job runs as is in the command.
    return (have.schedule, have.command, have.active) == (want.schedule, want.command, True)


def drift(conn, manifest: Manifest, target: schedule.CronTarget) -> list[dict[str, Any]]:
    """Every difference between what the manifest renders now and what is installed: the
    units' (unit_drift), and cron jobs unscheduled, with another schedule, or extra."""
    return unit_drift(conn, manifest) + _cron_drift(manifest, target)


def catalog_drift(conn, js: str) -> list[dict]:
    """What differs between the objects deployed and the catalog now (jobs.catalog_drift()),
    or nothing where the job set predates that record."""
    if not exists(conn, "function", f"{quote_ident(js)}.catalog_drift()"):
        return []
    return conn.execute(f"SELECT unit, job_name, object, kind FROM {quote_ident(js)}.catalog_drift()"
                        " ORDER BY unit NULLS LAST, object").fetchall()


def deployed_checksums(conn, js: str) -> dict[str, str]:
    """Each deployed unit's checksum, by unit name (jobs.deployed_objects)."""
    rows = conn.execute(f"SELECT unit, checksum FROM {quote_ident(js)}.deployed_objects").fetchall()
    return {r["unit"]: r["checksum"] for r in rows}


def unit_drift(conn, manifest: Manifest, rendered: list[units.Unit] | None = None) -> list[dict[str, Any]]:
    """Catalog objects changed by hand, missing or extra (jobs.catalog_drift()); units whose
    rendered code differs from the deployed one (outdated) or that were never deployed.
    Reads only deployed_objects and catalog_drift(), which a monitor may. `rendered`: the
    manifest's units, rendered already (by a caller that renders them once for many reads)."""
    js = manifest.settings["jobs_schema"]
    items = [{"object": d["object"], "kind": d["kind"], "job": d["job_name"], "unit": d["unit"]}
             for d in catalog_drift(conn, js)]
    deployed = deployed_checksums(conn, js)
    rendered = units.job_units(citus.for_database(conn, manifest)) if rendered is None else rendered
    for unit in rendered:
        job = units.job_of(unit.name)
        if unit.name not in deployed:
            items.append({"object": unit.name, "kind": "not deployed", "job": job, "unit": unit.name})
        elif deployed[unit.name] != unit.checksum:
            items.append({"object": unit.name, "kind": "outdated", "job": job, "unit": unit.name})
    names = {u.name for u in rendered}
    for name in sorted(set(deployed) - names):
        items.append({"object": name, "kind": "extra", "job": None, "unit": name})
    return items


def _cron_drift(manifest: Manifest, target: schedule.CronTarget) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if target.available:
        wanted = schedule.desired(manifest, target)
        current = schedule.by_name(schedule.owned(manifest, target), wanted)
        by_cron = {schedule.cron_name(manifest, j.name, target): j.name for j in manifest.jobs.values()}
        for change in schedule.plan(manifest, target, anyone=True):
            name = change.job.name
            if change.action == "unschedule":
                if not (name in wanted and current.get(name) == change.job and not change.job.active):
                    items.append({"object": f"cron job {name} ({change.job.schedule})", "kind": "extra",
                                  "job": None, "unit": None})
            elif name not in current or not current[name].active:
                items.append({"object": f"cron job {name}", "job": by_cron.get(name), "unit": None,
                              "kind": "paused" if name in current else "unscheduled"})
            else:
                have, want = current[name], wanted[name]
                what = (f"{have.schedule!r}, the manifest says {want.schedule!r}" if have.schedule != want.schedule
                        else f"runs as {have.run_as!r}, the manifest says {want.run_as!r}"
                        if have.run_as != want.run_as else "its command differs from the manifest's")
                items.append({"object": f"cron job {name}", "kind": "schedule changed", "job": by_cron.get(name),
                              "unit": None, "detail": what})
    return items


def job_health(conn, js: str) -> dict[str, dict[str, Any]]:
    """jobs.job_health by job name (empty where the job set predates the view)."""
    if not exists(conn, "table", f"{quote_ident(js)}.job_health"):
        return {}
    return {r["job_name"]: r for r in conn.execute(f"SELECT * FROM {quote_ident(js)}.job_health").fetchall()}


# jobs.job_health decides each job's state, in the order sql/framework/50_job_health.sql
# documents; status words the problem states (blind, failing, overdue, unscheduled here;
# drifted through the drift lines, which say what drifted) and exits 1 on any.
UNSCHEDULED = {"paused": "paused in pg_cron (active = false)", "unscheduled": "missing from pg_cron"}


def health(dsn: str, manifest: Manifest) -> dict[str, Any]:
    """Each job's state as jobs.job_health decides it, and a line per problem: a problem
    state, a job not deployed, what differs between the manifest's code and the deployed one
    (which only the code knows), and, where pg_cron lives in another database the view
    cannot read, the cron jobs missing or changed there."""
    with _session(dsn, manifest) as (conn, js, target):
        rows = _schedule_rows(conn, js, target, manifest)
        view = job_health(conn, js)
        drifted = drift(conn, manifest, target)
        launcher = schedule.launcher_running(target)
        cron_db = target.conn.info.dbname if target.available else None
    problems = []
    if launcher is False and any(h.get("cron_state") in ("scheduled", "differs", "unknown") for h in view.values()):
        problems.append(f"pg_cron: its launcher is not running in database {cron_db}, so no scheduled job starts "
                        f"({schedule.LAUNCHER_MISSING})")
    for row in rows:
        h = view.get(row["job"], {})
        row.update({k: h.get(k) for k in (
            "state", "cron_state", "last_success_at", "consecutive_failures", "running_since", "running_for",
            "next_run_at", "expected_run_at", "overdue", "never_ran", "abandoned_runs", "last_error",
            "last_sqlstate", "last_duration_ms", "last_affected", "blind_tables")})
        job, state = row["job"], h.get("state")
        if not row["deployed"]:
            row["state"] = "not deployed"
            if row["enabled"]:
                problems.append(f"{job}: not deployed")
            continue
        if state == "failing":
            failures = h.get("consecutive_failures") or 0
            what = {"running": "abandoned (its backend is gone)"}.get(h.get("last_status"), h.get("last_status"))
            problems.append(f"{job}: last run {what}" + (f" ({failures} in a row)" if failures > 1 else ""))
        elif state == "overdue":
            last = h.get("last_run_at")
            problems.append(f"{job}: overdue: a run was due at {h['expected_run_at']:%Y-%m-%d %H:%M} UTC, "
                            + (f"the last one started {last:%Y-%m-%d %H:%M} UTC" if last else "it never ran")
                            + ("; `deployer deploy` schedules it again, for pg_cron's launcher to read it anew"
                               if launcher and h.get("cron_state") in ("scheduled", "unknown") else ""))
        elif state == "unscheduled":
            what = UNSCHEDULED["paused" if h.get("cron_state") == "paused" else "unscheduled"]
            problems.append(f"{job}: not scheduled: {what}; `deployer deploy` schedules it again")
    blind = [row for row in rows if row.get("state") == "blind"]
    if blind:  # the same tables for every job: said once
        owner = manifest.roles["owner"]
        problems.insert(0, f"blind: row level security hides rows of {', '.join(blind[0]['blind_tables'])} from role "
                           f"{owner}, the role the jobs run as, so {', '.join(r['job'] for r in blind)} refuse to run "
                           f"(as a superuser: ALTER ROLE {quote_ident(owner)} BYPASSRLS)")
    cron = {job: h.get("cron_state") for job, h in view.items()}
    for item in drifted:
        if item["kind"] in ("unscheduled", "paused") and item["job"] in manifest.jobs:
            if cron.get(item["job"], "unknown") == "unknown":  # pg_cron elsewhere: read there, said here
                problems.append(f"{item['job']}: not scheduled: {UNSCHEDULED[item['kind']]}; `deployer deploy` "
                                "schedules it again")
            continue  # otherwise the view judged pg_cron's entry: in the job's state, or not wanted there
        if item["kind"] == "schedule changed" and cron.get(item["job"]) == "not scheduled":
            continue  # deployed without a schedule: pg_cron's entry is not the job set's concern
        problems.append(f"drift: {item['object']} {item['kind']}" + (f": {item['detail']}" if item.get("detail")
                                                                      else ""))
    return {"healthy": not problems, "problems": problems, "jobs": rows, "drift": drifted}
