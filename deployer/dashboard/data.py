"""What the dashboard reads, and how: a read-only session, as the monitor role where there is
one, through the same reads `deployer status` and `history` make (the pages take theirs from
pool.Pool).

The session reads only the job set's job_health, job_executions, job_registry,
deployed_objects and catalog_drift() (the monitor role's rights), and the catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from deployer import status
from deployer.db import assume_role, connect, translated
from deployer.errors import DatabaseError, UsageError
from deployer.manifest import Manifest
from deployer.render import quote_ident
from deployer.units import Unit, job_unit, job_units

APPLICATION_NAME = "deployer dashboard"
RECENT_RUNS = 25
MAX_MARKS = 2000  # runs a chart draws at most; the window's text says when it was cut


def monitor_role(manifest: Manifest) -> str:
    """The manifest's monitor role ([roles] monitor), or its default name."""
    return getattr(manifest, "roles", {}).get("monitor", "jobset_monitor")


@dataclass
class Session:
    conn: Any
    schema: str  # the jobs schema
    role: str  # whom the session reads as

    @property
    def js(self) -> str:
        """The jobs schema, quoted for SQL."""
        return quote_ident(self.schema)


def open_connection(dsn: str, manifest: Manifest, application_name: str = APPLICATION_NAME) -> tuple[Any, str]:
    """A read-only connection, as the monitor role when this user may take it on, and whom
    it reads as."""
    conn = connect(dsn, read_only=True, application_name=application_name)
    try:
        with translated():
            assume_role(conn, monitor_role(manifest))
            role = conn.execute("SELECT current_user AS r").fetchone()["r"]
    except BaseException:
        conn.close()
        raise
    return conn, role


@contextmanager
def reading(conn: Any, manifest: Manifest, role: str) -> Iterator[Session]:
    """A Session over an open connection (open_connection's) to the deployed job set; a
    right the role lacks is named with whom it reads as."""
    try:
        with translated():
            js = status.require_jobs_schema(conn, manifest)
            yield Session(conn, js, role)
    except DatabaseError as exc:
        if exc.sqlstate != "42501":
            raise
        raise DatabaseError(f"{exc} (reading as {role}: a deploy grants its monitor role what the dashboard"
                            " reads)", exc.sqlstate, exc.constraint) from None


@contextmanager
def session(dsn: str, manifest: Manifest, application_name: str = APPLICATION_NAME) -> Iterator[Session]:
    """A read-only connection to the deployed job set, as the monitor role when this user
    may take it on; closed after. (The pages share pool.Pool's connections instead.)"""
    conn, role = open_connection(dsn, manifest, application_name)
    try:
        with reading(conn, manifest, role) as s:
            yield s
    finally:
        conn.close()


def _drift_by_job(items: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    out: dict[str | None, list[dict[str, Any]]] = {}
    for item in items:
        out.setdefault(item["job"], []).append(item)
    return out


def _state(h: dict[str, Any]) -> str:
    """job_health's state as the view decides it, never derived here (code newer than the
    deployed one is shown beside it, `outdated`, not in its place)."""
    return h["state"] if h else "not deployed"


def units(manifest: Manifest) -> list[Unit]:
    """The manifest's units, rendered: once per server, the manifest does not change under it."""
    return job_units(manifest)


def jobs_overview(s: Session, manifest: Manifest, rendered: list[Unit]) -> dict[str, Any]:
    """One row per job (the manifest's, then any other the registry holds), and the last deploy."""
    with translated():
        view = status.job_health(s.conn, s.schema)
        drift = _drift_by_job(status.unit_drift(s.conn, manifest, rendered))
        now = s.conn.execute("SELECT now() AS now").fetchone()["now"]
        deployed = s.conn.execute(f"SELECT deployed_at, deployed_by, version, environment FROM {s.js}.deployments"
                                  " ORDER BY deployed_at DESC, id DESC LIMIT 1").fetchone()
    names = list(manifest.jobs) + sorted(set(view) - set(manifest.jobs))
    rows = []
    for name in names:
        h = view.get(name, {})
        job = manifest.jobs.get(name)
        expr = h.get("schedule") or (job.schedule if job else "")
        scheduled = bool(h.get("scheduled")) and bool(h.get("enabled"))
        rows.append({
            "job": name,
            "description": h.get("description") or (job.description if job else ""),
            "schedule": expr,
            "schedule_words": status.describe(expr),
            "scheduled": scheduled,
            "next_run": (h.get("next_run_at") or status.next_run(s.conn, s.schema, expr, now)) if scheduled else None,
            "last_run": h.get("last_run_at"),
            "last_status": h.get("last_status"),
            "last_duration_ms": h.get("last_duration_ms"),
            "state": _state(h),
            "outdated": bool(drift.get(name) or drift.get(None)),
            "running_for": h.get("running_for"),
            "consecutive_failures": h.get("consecutive_failures") or 0,
            "expected_run_at": h.get("expected_run_at"),
            "last_error": h.get("last_error"),
            "in_manifest": job is not None,
        })
    return {"jobs": rows, "now": now, "deployed": deployed}


def job_detail(s: Session, manifest: Manifest, rendered: list[Unit], name: str, days: int) -> dict[str, Any]:
    """A job's runs in the last `days` days (for the chart), its latest runs, its registry
    row, and its SQL: as the manifest renders it, whether that is what was deployed, and
    the catalog's definition of anything changed by hand."""
    if not 1 <= days <= 366:
        raise UsageError(f"days must be between 1 and 366, not {days}")
    js = s.js
    with translated():
        registry = s.conn.execute(f"SELECT * FROM {js}.job_registry WHERE job_name = %s", (name,)).fetchone()
        if registry is None and name not in manifest.jobs:
            raise LookupError(name)
        health = status.job_health(s.conn, s.schema).get(name, {})
        now = s.conn.execute("SELECT now() AS now").fetchone()["now"]
        start = now - timedelta(days=days)
        window = s.conn.execute(
            f"SELECT id, status, duration_ms, affected_count, batches, executed_at FROM {js}.job_executions"
            " WHERE job_name = %s AND executed_at >= %s ORDER BY executed_at DESC, id DESC LIMIT %s",
            (name, start, MAX_MARKS)).fetchall()
        in_window = s.conn.execute(f"SELECT count(*) AS n FROM {js}.job_executions"
                                   " WHERE job_name = %s AND executed_at >= %s", (name, start)).fetchone()["n"]
        runs = status.history_rows(s.conn, s.schema, name, RECENT_RUNS)
        drift = [d for d in status.unit_drift(s.conn, manifest, rendered) if d["job"] in (name, None)]
        sql = _deployed_sql(s, rendered, name, drift)
    return {
        "job": name, "registry": registry, "health": health, "state": _state(health), "outdated": bool(drift),
        "schedule_words": status.describe(registry["schedule"]) if registry else "",
        "now": now, "start": start, "days": days, "window": list(reversed(window)), "in_window": in_window,
        "runs": runs, "drift": drift, "sql": sql,
    }


def _deployed_sql(s: Session, rendered: list[Unit], name: str, drift: list[dict[str, Any]]) -> dict[str, Any]:
    unit_name = job_unit(name)
    unit = next((u for u in rendered if u.name == unit_name), None)
    deployed = s.conn.execute(f"SELECT checksum, deployed_at FROM {s.js}.deployed_objects WHERE unit = %s",
                              (unit_name,)).fetchone()
    if unit is None:
        verdict = "not in the manifest"
    elif deployed is None:
        verdict = "not deployed"
    else:
        verdict = "deployed" if deployed["checksum"] == unit.checksum else "outdated"
    by_hand = [d["object"] for d in drift if d["kind"] == "changed by hand" and "(" in d["object"]]
    if unit is None:
        by_hand = [r["sig"] for r in s.conn.execute(
            "SELECT p.oid::pg_catalog.regprocedure::text AS sig FROM pg_catalog.pg_proc AS p"
            " WHERE p.pronamespace = to_regnamespace(%s) AND p.proname = %s",
            (s.schema, name)).fetchall()]
    catalog = [{"signature": sig, "definition": s.conn.execute(
        "SELECT pg_catalog.pg_get_functiondef(pg_catalog.to_regprocedure(%s)) AS d", (sig,)).fetchone()["d"]}
        for sig in by_hand]
    return {"rendered": unit.sql if unit else None, "verdict": verdict,
            "deployed_at": deployed["deployed_at"] if deployed else None, "catalog": catalog}


def live_runs(s: Session, limit: int = 15) -> list[dict[str, Any]]:
    """The latest runs of every job, for the live page to start from."""
    with translated():
        return status.history_rows(s.conn, s.schema, None, limit)


def ago(then: datetime | None, now: datetime) -> str:
    """'5 min ago', 'in 2 h 10 min'."""
    if then is None:
        return ""
    delta = now - then
    words = span(abs(delta))
    return f"in {words}" if delta.total_seconds() < 0 else f"{words} ago"


def span(delta: timedelta | None) -> str:
    """A duration in the two largest units that matter: '45 s', '3 min', '2 h 5 min', '4 d 3 h'."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h" + (f" {minutes % 60} min" if minutes % 60 else "")
    return f"{days} d" + (f" {hours % 24} h" if hours % 24 else "")
