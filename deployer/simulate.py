"""`deployer simulate`: a window of the schedule replayed on a copy of the database.

Every job takes its `now`, so the schedule of any window can be run ahead of time: each fire
of each enabled job, listed by the evaluator the health view uses (jobs.cron_fire, pg_cron's
own rules, called in the copy), is run through jobs.run_job at its own moment, in time order
and, within a minute, in the manifest's `after` order. Sunday night's settlements then feed
the stats and the badges, and Monday's reset follows, as they will in production.

It never writes to the source. The source is read once by pg_dump (one snapshot) and
restored into a scratch database: one the user names (`--into`, an empty database), or a
new one on the local cluster, dropped afterwards unless kept. The copy leaves out what the
scratch server may not have: owners, grants and row security policies (their roles are the
source cluster's), pg_cron and its tables (the copy must never run a job on its own), and
extensions the scratch server lacks. The job set is then deployed afresh on the copy with
the manifest being simulated (no schedule), so that its objects belong to the owner role and
the runs work with the rights they have in production; the history, job state and the app's
rows are the source's.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any

import psycopg

from deployer import install, local
from deployer import run as runner
from deployer.db import connect, describe, translated
from deployer.errors import ConfigError, ConnectionFailed, JobFailed, UsageError
from deployer.manifest import Manifest, run_order
from deployer.render import quote_ident

PICTURE = local.SIMULATION_PICTURE  # where the picture goes unless --picture says
SCRATCH_PREFIX = "jobset_simulation"
_numbers = itertools.count(1)  # scratch databases made by this process
FAILED = ("failed", "abandoned")

Observer = Callable[[str, "Step"], None]


@dataclass(frozen=True)
class Fire:
    at: datetime
    job: str


@dataclass
class Step:
    """One fire, run: what run_job recorded for it."""

    at: datetime
    job: str
    status: str
    affected: int
    details: dict[str, Any]
    duration_ms: int
    execution_id: int | None = None
    error: str | None = None

    def key(self) -> tuple[str, str, str, int, str]:
        """What two simulations of the same window must agree on."""
        return self.at.isoformat(), self.job, self.status, self.affected, _flat_text(self.details)

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "job": self.job, "status": self.status, "affected": self.affected,
                "details": self.details, "duration_ms": self.duration_ms, "execution_id": self.execution_id,
                "error": self.error}


@dataclass
class Simulation:
    """One manifest's replay of the window on one copy."""

    manifest: Manifest
    copy: str  # how the copy was made, for people
    start: datetime
    end: datetime
    cron: CronRules
    jobs: list[str]
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0  # in all: the copy, then the fires
    copy_seconds: float = 0.0
    tables: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)  # row hashes at the end (compare)

    def summary(self) -> list[dict[str, Any]]:
        """Per job: its fires, how they ended, rows changed, time taken, and its details summed."""
        rows = []
        for job in self.jobs:
            steps = [s for s in self.steps if s.job == job]
            statuses: dict[str, int] = {}
            totals: dict[str, float] = {}
            for step in steps:
                statuses[step.status] = statuses.get(step.status, 0) + 1
                for key, value in _flat(step.details).items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        totals[key] = totals.get(key, 0) + value
            rows.append({"job": job, "fires": len(steps), "statuses": statuses,
                         "affected": sum(s.affected for s in steps),
                         "duration_ms": sum(s.duration_ms for s in steps),
                         "details": {k: v for k, v in totals.items() if v}})
        return rows

    def failed(self) -> list[Step]:
        """The runs that failed (a `partial` run spent its time budget: the next one goes on)."""
        return [s for s in self.steps if s.status in FAILED]

    def as_json(self) -> dict[str, Any]:
        return {"manifest": str(self.manifest.path), "copy": self.copy, "from": self.start.isoformat(),
                "to": self.end.isoformat(), "cron_version": self.cron.version, "cron_timezone": self.cron.zone,
                "jobs": self.jobs, "seconds": round(self.seconds, 3), "copy_seconds": round(self.copy_seconds, 3),
                "timeline": [s.as_json() for s in self.steps], "summary": self.summary()}


# The window and the jobs ---------------------------------------------------------------

def parse_moment(text: str, option: str) -> datetime:
    """--from / --to as ISO 8601; a time without a zone is taken as UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an ISO 8601 time such as 2026-11-30T00:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def window(start_text: str, end_text: str) -> tuple[datetime, datetime]:
    """The window [--from, --to): fires at or after its start and before its end."""
    start, end = parse_moment(start_text, "--from"), parse_moment(end_text, "--to")
    if end <= start:
        raise UsageError(f"--to ({end.isoformat()}) must be after --from ({start.isoformat()})")
    return start, end


def chosen(manifest: Manifest, names: list[str] | None) -> list[str]:
    """The jobs whose fires are replayed, in the `after` order: the manifest's enabled jobs,
    or those of `names` (comma-separated or repeated) among them. An unknown name is an
    error; a disabled one has no fire, as pg_cron gives it none."""
    wanted = [n.strip() for given in names or [] for n in given.split(",") if n.strip()]
    for name in wanted:
        if name not in manifest.jobs:
            known = ", ".join(sorted(manifest.jobs))
            raise UsageError(f"--jobs: unknown job {name!r} (known: {known})")
    return [n for n in run_order(manifest) if manifest.jobs[n].enabled and (not wanted or n in wanted)]


# The copy ------------------------------------------------------------------------------

def _tool(name: str) -> str:
    """pg_dump / pg_restore of the local PostgreSQL installation (the newest, or --bindir's)."""
    return str(local.bindir() / name)


CRON_SETTINGS = (("cron.launch_active_jobs", "1.6"), ("cron.timezone", "1.5"), ("cron.database_name", "1.4"))


@dataclass(frozen=True)
class CronRules:
    """How the source's pg_cron reads schedules: its version's rules (None: no pg_cron, the
    newest rules) in its cron.timezone (GMT where it is hidden or absent, as pg_cron's default)."""

    version: str | None
    zone: str


def check_source(dsn: str, manifest: Manifest) -> CronRules:
    """Reach the source (read only) before anything is made, check it holds the app's tables,
    and read how its pg_cron reads schedules, as jobs.cron_fire reads it on its own server:
    the version from the settings it defines, each seen even when hidden from this role."""
    with connect(dsn, read_only=True) as conn, translated():
        install.check_app_tables(conn, manifest)
        found = {name: _setting(conn, name) for name, _ in CRON_SETTINGS}
    version = next((since for name, since in CRON_SETTINGS if found[name] is not False), None)
    zone = found["cron.timezone"] if isinstance(found["cron.timezone"], str) else None
    return CronRules(version, zone or "GMT")


def _setting(conn: psycopg.Connection, name: str) -> str | bool | None:
    """A setting's value; True when it exists but this role may not read it; False when
    the server has no such setting."""
    try:
        with conn.transaction():
            value = conn.execute("SELECT current_setting(%s, true) AS v", (name,)).fetchone()["v"]
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False if value is None else value


def check_zone(dsn: str, zone: str) -> str:
    """--cron-timezone: a zone the server knows."""
    with connect(dsn) as conn:
        known = conn.execute("SELECT count(*) AS n FROM pg_timezone_names WHERE name = %s", (zone,)).fetchone()["n"]
        known = known or zone.upper() in ("UTC", "GMT")
    if not known:
        raise UsageError(f"--cron-timezone {zone!r} is not a time zone PostgreSQL knows, such as Europe/Paris")
    return zone


def check_scratch(dsn: str) -> None:
    """A database the user named for the copy must be reachable and empty: no table outside
    the system schemas (the copy is restored into it whole)."""
    with connect(dsn) as conn, translated():
        row = conn.execute(
            "SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname !~ '^pg_toast'").fetchone()
    if row["n"]:
        raise UsageError(f"--into {describe(dsn)} holds {row['n']} tables: the copy needs an empty database "
                         "(CREATE DATABASE sim), never the source")


def _run(cmd: list[str], what: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
        raise ConfigError(f"{what} failed: {said[-1] if said else f'exit {done.returncode}'}")
    return done.stdout


def _restore_list(listing: str, available: set[str]) -> str:
    """pg_restore's table of contents less what the copy leaves out (module docstring):
    pg_cron and its schema, extensions the scratch server lacks, row security policies."""
    kept = []
    for line in listing.splitlines():
        fields = line.split(";", 1)[1].split() if ";" in line and not line.startswith(";") else []
        if fields:
            kind_and_rest = " ".join(fields[2:])
            schema = _toc_schema(kind_and_rest)
            extension = re.match(r"(?:COMMENT - )?EXTENSION (?:- )?(\S+)", kind_and_rest)
            if (schema == "cron" or kind_and_rest.startswith("POLICY ")
                    or (extension and (extension.group(1) == "pg_cron" or extension.group(1) not in available))):
                continue
        kept.append(line)
    return "\n".join(kept) + "\n"


TOC_KINDS = ("TABLE DATA", "SEQUENCE SET", "SEQUENCE OWNED BY", "MATERIALIZED VIEW DATA", "FK CONSTRAINT",
             "DEFAULT ACL", "ROW SECURITY", "EVENT TRIGGER", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY")


def _toc_schema(entry: str) -> str | None:
    """The schema of a table-of-contents entry ("TABLE DATA cron job postgres": cron)."""
    for kind in TOC_KINDS:
        if entry.startswith(kind + " "):
            return entry[len(kind) + 1:].split(" ", 1)[0]
    parts = entry.split(" ")
    return parts[1] if len(parts) > 1 else None


def copy_into(source: str, target: str, manifest: Manifest) -> None:
    """pg_dump the source (one snapshot, read only), pg_restore into `target` (an empty
    database) without what the copy leaves out, deploy the job set afresh there with
    `manifest`, unscheduled, and vacuum and analyze it as autovacuum keeps the source."""
    with connect(target) as conn:
        available = {r["name"] for r in conn.execute("SELECT name FROM pg_available_extensions").fetchall()}
    with tempfile.TemporaryDirectory(prefix="jobset-simulate-") as work:
        dump, listing = os.path.join(work, "source.dump"), os.path.join(work, "restore.list")
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--no-publications",
              "--no-subscriptions", "--no-security-labels", f"--file={dump}", f"--dbname={source}"],
             f"pg_dump of {describe(source)}")
        with open(listing, "w", encoding="utf-8") as out:
            out.write(_restore_list(_run([_tool("pg_restore"), "--list", dump], "pg_restore --list"), available))
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--use-list={listing}", f"--dbname={target}", dump], f"pg_restore into {describe(target)}")
    js = manifest.settings["jobs_schema"]
    with connect(target) as conn, translated():
        # Every unit installed anew, so that the owner role owns them again (the restore made
        # them the restoring user's) and `manifest` is what runs.
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL AS ok", (f"{quote_ident(js)}.deployed_objects",)
                        ).fetchone()["ok"]:
            conn.execute(f"DELETE FROM {quote_ident(js)}.deployed_objects")
    install.deploy(target, manifest, with_schedule=False)
    with connect(target) as conn, translated():
        # A restore brings no statistics and no visibility map: without them the jobs' plans
        # are not production's (an hourly rollup_stats took minutes at 100,000 users).
        conn.execute("VACUUM (ANALYZE)")


@contextmanager
def scratch(into: str | None, keep: bool) -> Iterator[tuple[str, str]]:
    """(DSN, description) of an empty database for a copy: `into`, or a new database on the
    local cluster (started if need be), dropped on the way out unless `keep`."""
    if into:
        yield into, f"restored into {describe(into)}"
        return
    cluster = local.default_cluster()
    cluster.start()
    name = f"{SCRATCH_PREFIX}_{datetime.now(timezone.utc):%Y%m%d%H%M%S}_{os.getpid()}_{next(_numbers)}"
    admin = cluster.url()
    with connect(admin) as conn:
        conn.execute(f"CREATE DATABASE {quote_ident(name)}")
    dsn = cluster.url(name)
    try:
        yield dsn, (f"restored into {dsn} on the local cluster, kept" if keep
                    else f"restored into database {name} on the local cluster, dropped afterwards")
    finally:
        if not keep:
            with connect(admin) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")


# Fires and runs ------------------------------------------------------------------------

FIRES = """
WITH RECURSIVE f (job, schedule, at) AS (
    SELECT j.job, j.schedule, {js}.cron_fire(j.schedule, %(start)s::timestamptz - interval '1 microsecond', false,
                                            %(zone)s, %(version)s)
      FROM unnest(%(jobs)s::text[], %(schedules)s::text[]) AS j (job, schedule)
    UNION ALL
    SELECT f.job, f.schedule, {js}.cron_fire(f.schedule, f.at, false, %(zone)s, %(version)s)
      FROM f
     WHERE f.at < %(end)s
)
SELECT job, at FROM f WHERE at < %(end)s
"""


def fires(dsn: str, manifest: Manifest, jobs: list[str], start: datetime, end: datetime,
          rules: CronRules) -> list[Fire]:
    """Every fire of `jobs` in [start, end), read by jobs.cron_fire as the source's pg_cron
    reads the schedules; in time order, a minute's fires in the `after` order."""
    js = quote_ident(manifest.settings["jobs_schema"])
    with connect(dsn) as conn, translated():
        rows = conn.execute(FIRES.format(js=js), {
            "start": start, "end": end, "zone": rules.zone, "version": rules.version, "jobs": jobs,
            "schedules": [manifest.jobs[j].schedule for j in jobs]}).fetchall()
    order = {name: i for i, name in enumerate(jobs)}
    return sorted((Fire(r["at"], r["job"]) for r in rows), key=lambda f: (f.at, order[f.job]))


def run_fire(conn: psycopg.Connection, manifest: Manifest, fire: Fire) -> Step:
    """One fire through jobs.run_job at its moment, as `deployer run --now` runs it."""
    try:
        result = runner.run_on(conn, manifest, fire.job, fire.at, None)
    except JobFailed as exc:
        if exc.result is None:
            raise
        result = exc.result
    return Step(fire.at, fire.job, result.status, result.affected, result.details, result.duration_ms,
                result.execution_id, result.error)


def replay(dsn: str, manifest: Manifest, planned: list[Fire], progress: Callable[[Fire], None] | None = None,
           observe: Observer | None = None) -> list[Step]:
    """Run every fire in turn on one session; `progress` before each, `observe(dsn, step)` after each.
    The URLs a fire's deletes journal for cleanup_media (stamped by the server's clock) are
    restamped with the fire's moment, as if the week had happened on the clock."""
    steps = []
    journal = f"{quote_ident(manifest.settings['jobs_schema'])}.media_dropped"
    with connect(dsn) as conn:
        journaled = conn.execute("SELECT pg_catalog.to_regclass(%s) IS NOT NULL AS ok", (journal,)).fetchone()["ok"]
        for fire in planned:
            if progress is not None:
                progress(fire)
            began = conn.execute("SELECT pg_catalog.clock_timestamp() AS at").fetchone()["at"]
            step = run_fire(conn, manifest, fire)
            if journaled:
                conn.execute(f"UPDATE {journal} SET dropped_at = %s WHERE dropped_at >= %s", (fire.at, began))
            steps.append(step)
            if observe is not None:
                observe(dsn, step)
    return steps


def simulate(source: str, manifest: Manifest, start: datetime, end: datetime, jobs: list[str], rules: CronRules, *,
             into: str | None = None, keep: bool = False, rows: bool = False,
             progress: Callable[[Fire, int], None] | None = None, observe: Observer | None = None) -> Simulation:
    """Copy the source, deploy `manifest` on the copy, list the window's fires and run them.
    `progress(fire, total)` before each run; with `rows`, the copy's rows are hashed at the
    end (for compare)."""
    began = time.monotonic()
    with scratch(into, keep) as (dsn, how):
        copy_into(source, dsn, manifest)
        copied = time.monotonic() - began
        planned = fires(dsn, manifest, jobs, start, end, rules)
        each = (lambda fire: progress(fire, len(planned))) if progress is not None else None
        steps = replay(dsn, manifest, planned, each, observe)
        tables = row_hashes(dsn, manifest) if rows else {}
    return Simulation(manifest, f"pg_dump of {describe(source)} {how}", start, end, rules, jobs, steps,
                      time.monotonic() - began, copied, tables)


# Checksums and differences -------------------------------------------------------------

TABLES = """
SELECT format('%%I.%%I', n.nspname, c.relname) AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (%s)
 ORDER BY 1
"""


def table_checksums(dsn: str, schemas: list[str] | None = None) -> dict[str, tuple[int, str]]:
    """Each table's row count and a checksum of its rows (order-independent), for every
    schema but the system's, or those of `schemas`: read only."""
    with connect(dsn, read_only=True) as conn, translated():
        if schemas is None:
            schemas = [r["nspname"] for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema')"
                " AND nspname !~ '^pg_(toast|temp)'").fetchall()]
        out = {}
        for row in conn.execute(TABLES, (schemas,)).fetchall():
            got = conn.execute(f"SELECT count(*) AS n, md5(coalesce(string_agg(h, '' ORDER BY h), '')) AS sum"
                               f" FROM (SELECT md5(t::text) AS h FROM {row['name']} AS t) AS r").fetchone()
            out[row["name"]] = (got["n"], got["sum"])
    return out


def row_hashes(dsn: str, manifest: Manifest) -> dict[str, frozenset[str]]:
    """Each app table's rows as hashes (the app's schema, storage's, and the jobs' state), to
    tell which rows two simulations leave different."""
    schemas = [manifest.settings["app_schema"], manifest.settings["storage_schema"]]
    js = manifest.settings["jobs_schema"]
    with connect(dsn, read_only=True) as conn, translated():
        names = [r["name"] for r in conn.execute(TABLES, (schemas,)).fetchall()]
        names.append(f"{quote_ident(js)}.job_state")
        return {name: frozenset(r["h"] for r in conn.execute(f"SELECT md5(t::text) AS h FROM {name} AS t"))
                for name in names}


def compare(base: Simulation, other: Simulation) -> dict[str, Any]:
    """What differs between two simulations of one window: fires that move (a job's fires
    in one and not the other), fires of the same minute that end otherwise, each job's
    totals, and the tables whose rows end different (rows only in one, only in the other)."""
    moved = []
    for job in dict.fromkeys(base.jobs + other.jobs):
        mine = {s.at for s in base.steps if s.job == job}
        theirs = {s.at for s in other.steps if s.job == job}
        if mine != theirs:
            moved.append({"job": job, "only_base": sorted(t.isoformat() for t in mine - theirs),
                          "only_other": sorted(t.isoformat() for t in theirs - mine)})
    by_fire = {(s.at, s.job): s for s in other.steps}
    changed = [{"at": s.at.isoformat(), "job": s.job, "base": _brief(s), "other": _brief(by_fire[(s.at, s.job)])}
               for s in base.steps
               if (s.at, s.job) in by_fire and s.key()[2:] != by_fire[(s.at, s.job)].key()[2:]]
    totals = {row["job"]: row for row in other.summary()}
    jobs = [{"job": row["job"], "base_affected": row["affected"],
             "other_affected": totals.get(row["job"], {}).get("affected", 0)}
            for row in base.summary()]
    jobs += [{"job": j, "base_affected": 0, "other_affected": totals[j]["affected"]}
             for j in other.jobs if j not in base.jobs]
    tables = [{"table": name, "only_base": len(base.tables[name] - other.tables.get(name, frozenset())),
               "only_other": len(other.tables.get(name, frozenset()) - base.tables[name])}
              for name in base.tables if base.tables[name] != other.tables.get(name)]
    return {"moved": moved, "changed": changed, "jobs": [j for j in jobs if j["base_affected"] != j["other_affected"]],
            "tables": tables}


def _brief(step: Step) -> str:
    return f"{step.status}, {step.affected} affected"


# Details -------------------------------------------------------------------------------

def _flat(details: Any, prefix: str = "") -> dict[str, Any]:
    """A run's details as one level: {"sharp": {"awarded": 2}} is {"sharp.awarded": 2}."""
    if not isinstance(details, dict):
        return {prefix: details} if prefix else {}
    out: dict[str, Any] = {}
    for key, value in details.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _flat_text(details: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(_flat(details).items()))


def telling(details: dict[str, Any]) -> str:
    """The details that matter: the non-zero ones ("won=3, paid_out=12000")."""
    return ", ".join(f"{k}={v}" for k, v in _flat(details).items() if v not in (0, None, False, "", [], {})) or "-"


# The picture ---------------------------------------------------------------------------

WIDTH, LEFT, LANE, TOP = 1200, 210, 34, 64
TICK_HOURS = ((0.5, 1), (2, 3), (4, 6), (8, 12))  # (window up to N days, a tick every M hours); longer: daily
COLOURS = {"failed": "#d62728", "partial": "#ff7f0e", "changed": "#1f77b4", "nothing": "#aaa"}


def picture(sims: list[tuple[str, Simulation]]) -> str:
    """An SVG of one or two timelines: a lane per job (each simulation's in turn), a mark per
    run sized by the rows it changed (grey: none), failures in red, partial runs (their time
    budget spent) in orange, the hours along the bottom and a line at each midnight (UTC)."""
    start, end = sims[0][1].start, sims[0][1].end
    span = (end - start).total_seconds()
    most = max([s.affected for _, sim in sims for s in sim.steps] + [1])
    lanes = [(label, job, sim) for label, sim in sims for job in sim.jobs]
    height = TOP + LANE * len(lanes) + 30

    def x(at: datetime) -> float:
        return LEFT + (WIDTH - LEFT - 20) * (at - start).total_seconds() / span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="10" y="18" font-size="14" font-weight="bold">{escape(_title(sims))}</text>',
             _legend(most)]
    parts += _ticks(start, end, x, height)
    for i, (label, job, sim) in enumerate(lanes):
        y = TOP + LANE * i + LANE / 2
        name = f"{job} ({label})" if len(sims) > 1 else job
        parts.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - 20}" y2="{y}" stroke="#eee"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{y + 4}" text-anchor="end">{escape(name)}</text>')
        for step in (s for s in sim.steps if s.job == job):
            parts.append(_mark(step, x(step.at), y, most))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _legend(most: int) -> str:
    keys = [("changed", "rows changed (area: the count; largest " + f"{most:,})"), ("nothing", "nothing to do"),
            ("partial", "partial: time budget spent"), ("failed", "failed")]
    items, at = [], 10
    for key, text in keys:
        items.append(f'<circle cx="{at + 5}" cy="36" r="5" fill="{COLOURS[key]}" fill-opacity="0.6" '
                     f'stroke="{COLOURS[key]}"/><text x="{at + 14}" y="40" fill="#555">{escape(text)}</text>')
        at += 24 + 7 * len(text)
    return "".join(items)


def _ticks(start: datetime, end: datetime, x: Callable[[datetime], float], height: int) -> list[str]:
    """The hours along the bottom (every 1 to 12 hours, by the window's length), and a line with
    the day's name at each midnight, UTC."""
    days = (end - start).total_seconds() / 86400
    step = next((hours for longest, hours in TICK_HOURS if days <= longest), 24)
    tick = start.replace(minute=0, second=0, microsecond=0)
    parts = []
    while tick <= end:
        if tick >= start and tick.hour % step == 0:
            midnight = tick.hour == 0
            parts.append(f'<line x1="{x(tick):.1f}" y1="{TOP - 8}" x2="{x(tick):.1f}" y2="{height - 24}" '
                         f'stroke="{"#bbb" if midnight else "#eee"}"/>')
            label = f"{tick:%a %d %b}" if midnight else f"{tick:%H:%M}"
            parts.append(f'<text x="{x(tick):.1f}" y="{height - 8}" text-anchor="middle" fill="#555">'
                         f'{label}</text>')
        tick += timedelta(hours=1)
    return parts


def _title(sims: list[tuple[str, Simulation]]) -> str:
    sim = sims[0][1]
    what = " vs ".join(f"{label}: {s.manifest.path.name}" for label, s in sims)
    return f"simulated {sim.start:%Y-%m-%d %H:%M} to {sim.end:%Y-%m-%d %H:%M} UTC ({what})"


def _mark(step: Step, x: float, y: float, most: int) -> str:
    radius = 2 + 12 * math.sqrt(step.affected / most)
    colour = COLOURS["failed" if step.status in FAILED else "partial" if step.status == "partial"
                     else "changed" if step.affected else "nothing"]
    tip = f"{step.at:%Y-%m-%d %H:%M} {step.job}: {step.status}, {step.affected} affected"
    return (f'<circle class="run {step.status}" cx="{x:.1f}" cy="{y}" r="{radius:.1f}" fill="{colour}" '
            f'fill-opacity="0.6" stroke="{colour}"><title>{escape(tip)}</title></circle>')


def write_picture(path: Path, svg: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(svg, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--picture {path}: cannot write it: {exc.strerror or exc}") from None
    return path


def check_into(into: list[str] | None, comparing: bool) -> list[str | None]:
    """The scratch databases, one per simulation: none given (the local cluster's), or as
    many as simulations."""
    given = list(into or [])
    wanted = 2 if comparing else 1
    if given and len(given) != wanted:
        times = "twice (--manifest makes two simulations)" if comparing else "once"
        raise UsageError(f"--into names the scratch database of each simulation: give it {times}, or not at all")
    for dsn in given:
        try:
            check_scratch(dsn)
        except ConnectionFailed as exc:
            raise ConnectionFailed(f"--into: {exc}") from None
    return given or [None] * wanted
