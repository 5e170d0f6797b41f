"""`deployer seed` and `deployer demo`: the reference data and the guided tour."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from deployer import install, local, output, status
from deployer import run as runner
from deployer import seed as seed_mod
from deployer.db import connect, exists, translated
from deployer.render import quote_ident
from deployer.errors import UsageError
from deployer.manifest import Manifest, run_order


def seed_database(dsn: str, manifest: Manifest, users: int, seed: int, now: datetime | None) -> dict[str, int]:
    """Install the reference schema (idempotent), then seed it in one transaction."""
    if users < 1:
        raise UsageError(f"--users must be a whole number of at least 1, not {users}")
    conn = connect(dsn, autocommit=False)
    try:
        with translated():
            install.install_app_schema(conn, manifest.template_vars())
            conn.commit()
            return seed_mod.seed(conn, users=users, seed=seed, now=now, variables=manifest.template_vars())
    finally:
        conn.close()


def how_invoked(argv0: str | None = None) -> str:
    """The command a user types to run `deployer` again, as they ran it this time: `deployer`
    when that name on PATH is this program, the path they typed otherwise (`.venv/bin/deployer`
    after scripts/bootstrap), `python3 -m deployer.cli` when run as a module."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    name = os.path.basename(argv0)
    if name.endswith(".py") or name in ("-m", "-c", ""):
        return "python3 -m deployer.cli"
    on_path = shutil.which(name)
    if on_path and os.path.exists(argv0) and os.path.samefile(on_path, argv0):
        return name
    return argv0


def demo_moment(now: datetime, zone: str) -> datetime:
    """The demo's `now`: the latest Sunday 20:00 in `zone` at or before `now`, so the badge
    week has been played through its Sunday (sunday_sweep needs that day's results) and every
    weekly badge can have holders. The seed and every run of the tour use this one moment."""
    local = now.astimezone(ZoneInfo(zone))
    day = local.date() - timedelta(days=(local.weekday() - 6) % 7)
    moment = datetime.combine(day, time(20, 0), ZoneInfo(zone))
    if moment > local:
        moment = datetime.combine(day - timedelta(days=7), time(20, 0), ZoneInfo(zone))
    return moment.astimezone(timezone.utc)


def _has_users(dsn: str, manifest: Manifest) -> bool:
    users = quote_ident((manifest.settings["app_schema"], "users"))
    with connect(dsn) as conn, translated():
        if not exists(conn, "table", users):
            return False
        return seed_mod.app_users(conn, manifest.settings["app_schema"]) > 0


def run(dsn: str | None, manifest: Manifest, users: int) -> dict:
    """The tour; returns what it did (`deployer demo --json` prints it)."""
    if users < 1:  # before the cluster starts or anything is deployed
        raise UsageError(f"--users must be a whole number of at least 1, not {users}")
    step = output.out.rule
    summary: dict = {"runs": []}
    if dsn is None and not os.environ.get("DATABASE_URL"):
        step("1. the local PostgreSQL + pg_cron cluster")
        cluster = local.default_cluster()
        started = cluster.start()
        state = "started" if started else "already running"
        output.out.print(f"{state} {cluster.url()} (PostgreSQL {cluster.version})", markup=False)
    target = local.resolve_dsn(dsn)

    step("2. deploy (reference schema included)")
    plan = install.deploy(target, manifest, with_app_schema=True)
    summary["deployed"] = plan.lines()
    for line in plan.lines() or ["no changes"]:
        output.out.print(line, markup=False)

    # One moment for the seed and for the dry and the real runs, so they agree.
    now = demo_moment(datetime.now(timezone.utc), manifest.settings["timezone"])
    step(f"3. seed (the tour's moment: {now.isoformat()}, the latest Sunday evening)")
    if _has_users(target, manifest):
        output.out.print("the database already holds users; seeding skipped", markup=False)
    else:
        counts = seed_database(target, manifest, users, 1, now)
        summary["seeded"] = counts
        output.out.print(", ".join(f"{k} {v}" for k, v in counts.items()), markup=False)

    step("4. schedule")
    rows = status.schedule_rows(target, manifest)
    output.table("schedule (pg_cron runs in UTC)", ["job", "cron", "when", "next run"], rows,
                 ["job", "schedule", "description", "next_run"])

    summary["now"] = now.isoformat()
    for job in [name for name in run_order(manifest) if manifest.jobs[name].enabled]:
        step(f"5. {job}: dry run, then the real run")
        preview = runner.dry_run(target, manifest, job, now, None)
        output.run_summary(preview)
        result = runner.real_run(target, manifest, job, now, None, progress=output.info)
        output.run_summary(result)
        verdict = "matches" if (result.affected, result.details) == (preview.affected, preview.details) else "differs"
        output.out.print(f"the real run {verdict} its dry run", markup=False)
        summary["runs"].append({"job": job, "dry_run": preview.as_json(), "run": result.as_json(),
                                "matches": verdict == "matches"})

    step("6. history")
    rows = status.history(target, manifest, None, 10)
    output.table("job executions", ["id", "job", "status", "affected", "batches", "ms", "by"], rows,
                 ["id", "job_name", "status", "affected_count", "batches", "duration_ms", "executed_by"])

    step("7. health (jobs.job_health; `deployer status`)")
    report = status.health(target, manifest)
    output.table("jobs", ["job", "state", "last status", "next run (UTC)"], report["jobs"],
                 ["job", "state", "last_status", "next_run_at"])
    summary["healthy"] = report["healthy"]
    output.out.print("watch runs live with: deployer watch", markup=False)
    # The one command that opens the dashboard on this data: the same database as the tour.
    command = f"{how_invoked()} dashboard" + ("" if dsn is None else " --dsn '<the same --dsn>'")
    output.out.print(f"open the dashboard on this data with: {command}", markup=False)
    summary["dashboard"] = command
    return summary
