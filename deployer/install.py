"""Installing the job set: render every unit, compare with what is deployed, apply the
difference in one transaction, then bring pg_cron in line.

A unit is one rendered template (framework file, job file, app schema file) or one job's
registry row. Its checksum is remembered in jobs.deployed_objects, so a deploy that
changes nothing executes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import psycopg

from deployer import indexes, schedule
from deployer.db import connect, exists, translated
from deployer.errors import ConfigError
from deployer.manifest import Manifest
from deployer.render import Rendered, make_env, quote_ident, render, sql_root

# The SnapBet tables the built jobs work on; deploy checks they exist before anything.
APP_TABLES = ("users", "bankrolls", "bets", "games", "posts", "pick_actions", "stories", "messages", "comments",
              "notifications")
DEPLOY_LOCK = "snapbet.jobs.deploy"


@dataclass(frozen=True)
class Unit:
    name: str  # 'framework/40_run_job.sql', 'jobs/expire_content.sql', 'registry/expire_content'
    sql: str
    params: tuple = ()

    @property
    def checksum(self) -> str:
        payload = self.sql + "\x00" + json.dumps(self.params, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class Plan:
    units: list[Unit] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)  # jobs no longer listed
    cron: list[schedule.CronChange] = field(default_factory=list)
    cron_note: str = ""
    indexes: list[indexes.IndexChange] = field(default_factory=list)  # built after the transaction

    @property
    def empty(self) -> bool:
        return not (self.units or self.drops or self.cron or self.indexes)

    def lines(self) -> list[str]:
        out = [f"install {u.name}" if not u.name.startswith("registry/") else f"register {u.name[9:]}"
               for u in self.units]
        out += [f"remove job {name}" for name in self.drops]
        out += [c.describe() for c in self.cron]
        out += [c.describe() + ", concurrently" for c in self.indexes]
        return out


def app_units(variables: dict) -> list[Rendered]:
    """The reference SnapBet schema (sql/app), in file-name order; needs app_schema and
    storage_schema."""
    env = make_env()
    names = sorted(p.name for p in (sql_root() / "app").glob("*.sql"))
    return [render(f"app/{name}", variables, env) for name in names]


def job_units(manifest: Manifest) -> list[Unit]:
    """Framework, job functions and registry rows, in install order."""
    env = make_env()
    units = [Unit(f"framework/{p.name}", render(f"framework/{p.name}", manifest.template_vars(), env).sql)
             for p in sorted((sql_root() / "framework").glob("*.sql"))]
    js = manifest.settings["jobs_schema"]
    registry_sql = (
        f"INSERT INTO {quote_ident(js)}.job_registry AS r (job_name, description, schedule, enabled, batch_size,"
        " batch_time, min_batch_size, max_batch_size, time_budget,"
        " lock_timeout, max_retries, retry_backoff_ms, confirm, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s::interval, %s, %s, %s::interval, %s, %s, %s, %s, now())"
        " ON CONFLICT (job_name) DO UPDATE SET description = EXCLUDED.description, schedule = EXCLUDED.schedule,"
        " enabled = EXCLUDED.enabled, batch_size = EXCLUDED.batch_size, batch_time = EXCLUDED.batch_time,"
        " min_batch_size = EXCLUDED.min_batch_size, max_batch_size = EXCLUDED.max_batch_size,"
        " time_budget = EXCLUDED.time_budget,"
        " lock_timeout = EXCLUDED.lock_timeout, max_retries = EXCLUDED.max_retries,"
        " retry_backoff_ms = EXCLUDED.retry_backoff_ms, confirm = EXCLUDED.confirm, updated_at = now()"
    )
    s = manifest.settings
    for job in manifest.jobs.values():
        units.append(Unit(f"jobs/{job.name}.sql", render(f"jobs/{job.name}.sql", manifest.template_vars(job), env).sql))
        units.append(Unit(f"registry/{job.name}", registry_sql, (
            job.name, job.description, job.schedule, job.enabled, job.batch_size, job.batch_time,
            job.min_batch_size, job.max_batch_size, job.time_budget,
            s["lock_timeout"], s["max_retries"], s["retry_backoff_ms"], job.confirm)))
    return units


def _deployed(conn: psycopg.Connection, js: str) -> dict[str, str]:
    if not exists(conn, "table", f"{quote_ident(js)}.deployed_objects"):
        return {}
    rows = conn.execute(f"SELECT unit, checksum FROM {quote_ident(js)}.deployed_objects").fetchall()
    return {r["unit"]: r["checksum"] for r in rows}


def check_app_tables(conn: psycopg.Connection, manifest: Manifest) -> None:
    schema = manifest.settings["app_schema"]
    rows = conn.execute(
        "SELECT t FROM unnest(%s::text[]) AS t"
        " WHERE to_regclass(quote_ident(%s) || '.' || quote_ident(t)) IS NULL",
        (list(APP_TABLES), schema),
    ).fetchall()
    if rows:
        missing = ", ".join(r["t"] for r in rows)
        raise ConfigError(
            f"schema {schema!r} lacks SnapBet's tables ({missing}): deploy onto SnapBet's database, "
            "set app_schema in the manifest, or install the reference schema with --with-app-schema"
        )


def make_plan(
    conn: psycopg.Connection, manifest: Manifest, target: schedule.CronTarget, with_schedule: bool = True
) -> Plan:
    js = manifest.settings["jobs_schema"]
    deployed = _deployed(conn, js)
    units = job_units(manifest)
    plan = Plan(units=[u for u in units if deployed.get(u.name) != u.checksum])
    plan.drops = sorted(
        name[9:] for name in deployed if name.startswith("registry/") and name[9:] not in manifest.jobs
    )
    plan.cron = schedule.plan(manifest, target) if with_schedule else []
    plan.cron_note = target.why if with_schedule else ""
    plan.indexes = indexes.plan(conn, manifest)
    return plan


def install_app_schema(conn: psycopg.Connection, variables: dict) -> int:
    """Install the reference schema (idempotent). Returns the number of files run."""
    files = app_units(variables)
    with translated():
        for rendered in files:
            conn.execute(rendered.sql)
    return len(files)


# A job function's arguments now, and in earlier releases (p_after came later).
JOB_SIGNATURES = ("timestamptz, boolean, integer, jsonb", "timestamptz, boolean, integer")


def _apply(conn: psycopg.Connection, manifest: Manifest, plan: Plan) -> None:
    js = manifest.settings["jobs_schema"]
    for unit in plan.units:
        conn.execute(unit.sql, unit.params or None)
    for unit in plan.units:  # the table exists once the framework units ran
        conn.execute(
            f"INSERT INTO {quote_ident(js)}.deployed_objects (unit, checksum) VALUES (%s, %s)"
            " ON CONFLICT (unit) DO UPDATE SET checksum = EXCLUDED.checksum, deployed_at = now()",
            (unit.name, unit.checksum),
        )
    for name in plan.drops:
        for signature in JOB_SIGNATURES:
            conn.execute(f"DROP FUNCTION IF EXISTS {quote_ident((js, name))}({signature})")
        conn.execute(f"DELETE FROM {quote_ident(js)}.job_registry WHERE job_name = %s", (name,))
        conn.execute(
            f"DELETE FROM {quote_ident(js)}.deployed_objects WHERE unit IN (%s, %s)", (f"jobs/{name}.sql", f"registry/{name}")
        )


def deploy(
    dsn: str, manifest: Manifest, *, dry: bool = False, with_app_schema: bool = False, with_schedule: bool = True
) -> Plan:
    """Deploy in one transaction. With dry=True compute and return the plan only; with
    with_schedule=False leave pg_cron as it is."""
    conn = connect(dsn, autocommit=False)
    target = None
    try:
        with translated():
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (DEPLOY_LOCK,))
            if with_app_schema and not dry:
                install_app_schema(conn, manifest.template_vars())
            if not (with_app_schema and dry):
                check_app_tables(conn, manifest)
            target = schedule.locate(conn, dsn)
            plan = make_plan(conn, manifest, target, with_schedule)
            if dry:
                conn.rollback()
                return plan
            _apply(conn, manifest, plan)
            if target.local:
                schedule.apply(plan.cron, target)
                conn.commit()
            else:
                if plan.cron:
                    schedule.apply(plan.cron, target)
                conn.commit()
                if target.available:
                    target.conn.commit()
        if plan.indexes:
            with connect(dsn) as index_conn, translated():
                # Planned again under the deploy lock (a session lock: each build commits):
                # a concurrent deploy may have built some meanwhile.
                index_conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (DEPLOY_LOCK,))
                indexes.apply(index_conn, manifest, indexes.plan(index_conn, manifest))
        return plan
    finally:
        if target is not None:
            target.close()
        conn.close()


def uninstall(dsn: str, manifest: Manifest) -> list[str]:
    """Unschedule our cron jobs and drop the jobs schema. SnapBet's tables are left alone.
    pg_cron's side commits first: a schema left behind is mended by a deploy, a cron job
    left calling a dropped procedure would fail every hour."""
    conn = connect(dsn, autocommit=False)
    target = None
    try:
        with translated():
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (DEPLOY_LOCK,))
            target = schedule.locate(conn, dsn)
            changes = [schedule.CronChange("unschedule", job) for job in schedule.owned(manifest, target)]
            schedule.apply(changes, target)
            if not target.local and target.available:
                target.conn.commit()
            js = manifest.settings["jobs_schema"]
            present = exists(conn, "schema", quote_ident(js))
            if present:
                conn.execute(f"DROP SCHEMA {quote_ident(js)} CASCADE")
            conn.commit()
        with connect(dsn) as index_conn:
            dropped = indexes.drop_all(index_conn, manifest)
        return [c.describe() for c in changes] + ([f"drop schema {js}"] if present else []) + dropped
    finally:
        if target is not None:
            target.close()
        conn.close()
