"""The `deployer` command: thin typer commands over the modules beneath.

Every error becomes one line on stderr and an exit code, in `main`: 0 success, 1 a job
failed or the system is unhealthy, 2 bad usage, bad config, a missing right, a file it cannot
use or no database, 130 interrupted (Ctrl-C), 141 its output's reader went away (`| head`:
quietly, as a program stopped by SIGPIPE).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from deployer import install, local, output, run, simulate, status, units
from deployer.db import require_session
from deployer.errors import Aborted, DeployerError, JobFailed, MissingRights, OutputClosed, UsageError
from deployer.manifest import LOCK_TIMEOUT_RE, Manifest, load
from deployer.release import release


class Group(TyperGroup):
    """The root command. A write to a closed stdout (`deployer … | head`) ends in OutputClosed:
    click would end it with exit 1, which means a job failed."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise OutputClosed() from None


class Command(TyperCommand):
    """A command whose usage line names its arguments as POSIX does: JOB required, [JOB]
    optional (this typer writes a required one as {job})."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]


app = typer.Typer(
    cls=Group,
    help="Deploy, schedule and run SnapBet's database-native jobs (PL/pgSQL + pg_cron).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
db_app = typer.Typer(help="The local PostgreSQL + pg_cron cluster under ./.deployer.", no_args_is_help=True)
app.add_typer(db_app, name="db")
media_app = typer.Typer(help="Uploaded files: purge what cleanup_media queued.", no_args_is_help=True)
app.add_typer(media_app, name="media")


def _version(value: bool) -> None:
    if value:
        output.out.print(f"deployer {release()}", markup=False)
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the deployer's version and exit.")] = False) -> None:
    pass

Dsn = Annotated[Optional[str], typer.Option("--dsn", help="Connection string; default $DATABASE_URL, then `deployer db`.")]
Env = Annotated[Optional[str], typer.Option("--env", envvar="DEPLOYER_ENV", help="Manifest environment to apply.")]
ManifestPath = Annotated[
    Optional[Path], typer.Option("--manifest", envvar="DEPLOYER_MANIFEST", help="Manifest file (default sql/jobs.toml).")
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _manifest(path: Path | None, env: str | None) -> Manifest:
    return load(path, env)


@app.command(cls=Command)
def render(
    out_given: Annotated[str, typer.Option("--out", help="Directory to write the rendered SQL into.")] = "rendered",
    with_app_schema: Annotated[bool, typer.Option("--with-app-schema", help="Also render sql/app.")] = False,
    json_out: Json = False,
    env: Env = None,
    manifest: ManifestPath = None,
) -> None:
    """Write the rendered SQL, one file per unit, as deploy would run it."""
    if not out_given.strip():
        raise UsageError("--out is empty: name a directory, such as rendered/ (made if missing)")
    out = Path(out_given)
    m = _manifest(manifest, env)
    files = [(r.name, r.sql) for r in units.app_units(m.template_vars())] if with_app_schema else []
    files += [(u.name, u.sql) for u in units.job_units(m) if not units.is_registry(u.name)]
    from deployer import indexes

    files += indexes.build_scripts(m)
    _check_out(out, [name for name, _ in files])
    written = []
    for name, sql in files:
        target = out / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(sql, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--out {out}: cannot write {exc.filename or target}: {exc.strerror or exc}") from None
        written.append({"unit": name, "path": str(target), "bytes": len(sql.encode())})
        if not json_out:
            output.out.print(str(target), markup=False)
    if json_out:
        output.print_json({"out": str(out), "files": written})


def _check_out(out: Path, names: list[str]) -> None:
    """render's --out, before anything is written: a directory (made if missing) where each
    unit's file can be written; a rendered file already there is written anew, any other
    file in the way is one line."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is not a directory: --out names a directory (made if missing)")
    for name in names:
        target = out / name
        for parent in reversed(target.relative_to(out).parents[:-1]):
            if (out / parent).exists() and not (out / parent).is_dir():
                raise UsageError(f"--out {out}: {out / parent} is a file where the directory {parent} goes")
        if target.exists() and not target.is_file():
            raise UsageError(f"--out {out}: {target} is not a file, so it cannot be written")
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: {existing} is not writable by this user")


@app.command(cls=Command)
def deploy(
    plan: Annotated[bool, typer.Option("--plan", help="Show what would change, change nothing.")] = False,
    with_app_schema: Annotated[
        bool, typer.Option("--with-app-schema", help="Install the reference SnapBet schema first.")
    ] = False,
    no_schedule: Annotated[bool, typer.Option("--no-schedule", help="Install only; leave pg_cron as it is.")] = False,
    no_roles: Annotated[bool, typer.Option(
        "--no-roles", help="Create no role: the manifest's [roles] must exist already.")] = False,
    lock_wait: Annotated[Optional[str], typer.Option(
        "--lock-wait", help="How long to wait for another deploy, e.g. 30s (default: the manifest's deploy_lock_wait).")
    ] = None,
    json_out: Json = False,
    dsn: Dsn = None,
    env: Env = None,
    manifest: ManifestPath = None,
) -> None:
    """Install the job set in one transaction and schedule its enabled jobs with pg_cron.
    Repairs drift: objects changed by hand are installed again, extra ones dropped."""
    m = _manifest(manifest, env)
    if lock_wait is not None:
        if not LOCK_TIMEOUT_RE.match(lock_wait):
            raise UsageError(f"--lock-wait must look like '30s' or '500ms', not {lock_wait!r}")
        m.settings["deploy_lock_wait"] = lock_wait
    result = install.deploy(require_session(local.resolve_dsn(dsn), "deploy"), m, dry_run=plan,
                            with_app_schema=with_app_schema, with_schedule=not no_schedule, with_roles=not no_roles)
    missing = [m.line() for m in result.missing]
    if json_out:
        output.print_json({"plan": plan, "changed": not result.empty and not plan, "changes": result.lines(),
                           "warning": result.cron_note or None, "warnings": result.warnings, "missing": missing})
    else:
        if result.empty:
            output.out.print("no changes", markup=False)
        for line in result.lines():
            output.out.print(("would " if plan else "") + line, markup=False)
        if result.cron_note:
            output.info(f"warning: jobs not scheduled: {result.cron_note}")
        for warning in result.warnings if not missing else ():  # a missing right comes first
            output.info(f"warning: {warning}")
    if missing:  # --plan only: a deploy raises before it changes anything
        raise MissingRights(missing)


@app.command("run", cls=Command)
def run_command(
    job: Annotated[str, typer.Argument(metavar="JOB", help="Job name, or `all` for every enabled job.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what a run would do; write nothing.")] = False,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Do at most N items.")] = None,
    now: Annotated[Optional[str], typer.Option("--now", help="The run's moment (ISO 8601; default: now).")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v",
        help="Print every progress notice; with --dry-run, list who gains and loses what (calculate_badges).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Skip the confirmation some jobs ask for.")] = False,
    json_out: Json = False,
    dsn: Dsn = None,
    env: Env = None,
    manifest: ManifestPath = None,
) -> None:
    """Run a job by hand: a dry run, or a real run through jobs.run_job."""
    m = _manifest(manifest, env)
    when = run.parse_now(now)
    run.check_limit(limit)
    names = run.selected(m, job)
    asking = [n for n in names if m.jobs[n].confirm]
    if asking and not dry_run and not force:
        _confirm(f"{', '.join(asking)} changes every user's data", "Run it now?", "run it")
    target = local.resolve_dsn(dsn)

    def run_one(name: str) -> run.RunResult:
        if dry_run:
            return run.dry_run(target, m, name, when, limit, verbose)
        return _real_run(target, m, name, when, limit, verbose, json_out)

    results, failed = [], False
    try:
        for outcome in run.in_order(m, names, run_one, dry_run=dry_run, now=when, limit=limit):
            result = outcome
            if isinstance(outcome, JobFailed):
                failed, result = True, outcome.result
                if not json_out:
                    output.error(str(outcome))
            results.append(result)
            if not json_out and result is not None:
                output.run_summary(result)
    except DeployerError:
        if json_out and results:  # what already ran is still reported
            output.print_json(run.document(results))
        raise
    if json_out:
        output.print_json(run.document(results, single=job != "all"))
    if failed:
        raise typer.Exit(1)


def _confirm(what: str, question: str, without: str) -> None:
    """Ask `what. question` on a terminal; anywhere else (stdin a file, a pipe, or closed)
    refuse in one line naming --force, before anything changes."""
    if not sys.stdin.isatty():
        raise Aborted(f"{what}: pass --force to {without} without a terminal")
    if not typer.confirm(f"{what}. {question}", default=False, err=True):
        raise Aborted("not confirmed; nothing was changed")


def _real_run(dsn, m, name, when, limit, verbose, json_out):
    if verbose:
        return run.real_run(dsn, m, name, when, limit, progress=output.info)
    if json_out or not output.err.is_terminal:
        return run.real_run(dsn, m, name, when, limit)
    with output.err.status(f"{name}: starting") as spinner:
        return run.real_run(dsn, m, name, when, limit, progress=lambda text: spinner.update(text))


@app.command("simulate", cls=Command)
def simulate_command(
    start: Annotated[str, typer.Option("--from", help="The window's start (ISO 8601; UTC unless it says).")],
    end: Annotated[str, typer.Option("--to", help="The window's end, not included.")],
    other: Annotated[Optional[Path], typer.Option(
        "--manifest", help="Another manifest: simulate the window under it too, and show what differs.")] = None,
    jobs: Annotated[Optional[list[str]], typer.Option(
        "--jobs", metavar="JOB[,JOB…]",
        help="Only these jobs (comma-separated or repeated); default: every enabled job.")] = None,
    into: Annotated[Optional[list[str]], typer.Option(
        "--into", metavar="DSN",
        help="An empty database for the copy (once per simulation); default: a new database on the local cluster, "
             "dropped afterwards.")] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the local copy (its URL is printed).")] = False,
    cron_timezone: Annotated[Optional[str], typer.Option(
        "--cron-timezone", help="The zone pg_cron reads schedules in (default: the source's cron.timezone).")] = None,
    picture: Annotated[Path, typer.Option(
        "--picture", help="Where the timeline's picture (SVG) goes; the dashboard shows the default one.")
    ] = simulate.PICTURE,
    every: Annotated[bool, typer.Option("--all", help="List every fire, also those that changed nothing.")] = False,
    json_out: Json = False,
    dsn: Dsn = None,
    env: Env = None,
) -> None:
    """Replay the schedule of a window on a copy of the database: every fire of every enabled
    job, in order, each run through jobs.run_job at its own moment. Never writes to the source."""
    base = _manifest(None, env)
    alternative = _manifest(other, env) if other is not None else None
    first, last = simulate.window(start, end)
    chosen = [(label, m, simulate.chosen(m, jobs)) for label, m in
              [("base", base)] + ([("other", alternative)] if alternative else [])]
    source = local.resolve_dsn(dsn)
    rules = simulate.check_source(source, base)
    scratches = simulate.check_into(into, alternative is not None)
    if cron_timezone is not None:
        rules = simulate.CronRules(rules.version, simulate.check_zone(source, cron_timezone))
    sims = []
    for (label, m, names), target in zip(chosen, scratches):
        with output.fires(f"{label}: copying", enabled=not json_out) as advance:
            sims.append((label, simulate.simulate(source, m, first, last, names, rules, into=target, keep=keep,
                                                  rows=alternative is not None, progress=advance)))
    drawn = simulate.write_picture(picture, simulate.picture(sims))
    differences = simulate.compare(sims[0][1], sims[1][1]) if alternative else None
    if json_out:
        document = {**sims[0][1].as_json(), "picture": str(drawn)}
        if alternative:
            document["other"] = sims[1][1].as_json()
            document["differences"] = differences
        output.print_json(document)
    else:
        output.simulation(sims, every)
        if differences is not None:
            output.differences(differences)
        output.info(f"picture: {drawn}")
    if any(sim.failed() for _, sim in sims):
        raise typer.Exit(1)


@app.command(cls=Command)
def history(
    job: Annotated[Optional[str], typer.Argument(metavar="JOB", help="Only this job.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many runs.")] = 20,
    json_out: Json = False,
    dsn: Dsn = None,
    env: Env = None,
    manifest: ManifestPath = None,
) -> None:
    """The latest runs, newest first."""
    m = _manifest(manifest, env)
    if limit < 1:
        raise UsageError(f"--limit must be 1 or more, not {limit}")
    rows = status.history(local.resolve_dsn(dsn), m, job, limit)
    if json_out:
        output.print_json(rows)
        return
    output.table(
        "job executions",
        ["id", "job", "status", "affected", "batches", "ms", "executed at", "by", "message"],
        rows,
        ["id", "job_name", "status", "affected_count", "batches", "duration_ms", "executed_at", "executed_by",
         "message"],
    )
    output.failures(rows)


@app.command("schedule", cls=Command)
def schedule_command(json_out: Json = False, dsn: Dsn = None, env: Env = None, manifest: ManifestPath = None) -> None:
    """Each job's cron expression, what it means, its next run (UTC) and last status."""
    rows = status.schedule_rows(local.resolve_dsn(dsn), _manifest(manifest, env))
    if json_out:
        output.print_json(rows)
        return
    output.table(
        "schedule (pg_cron runs in UTC)",
        ["job", "cron", "when", "scheduled", "runs as", "next run", "last status", "last run"],
        rows,
        ["job", "schedule", "description", "scheduled", "run_as", "next_run", "last_status", "last_run"],
    )
    if rows and rows[0].get("note"):
        output.info(f"warning: {rows[0]['note']}")


@app.command("status", cls=Command)
def status_command(json_out: Json = False, dsn: Dsn = None, env: Env = None, manifest: ManifestPath = None) -> None:
    """Health: every enabled job deployed, scheduled, and its last run not failed. Exit 1 if not."""
    report = status.health(local.resolve_dsn(dsn), _manifest(manifest, env))
    if json_out:
        output.print_json(report)
    else:
        output.out.print("healthy" if report["healthy"] else "unhealthy", markup=False)
        for problem in report["problems"]:
            output.out.print(f"  {problem}", markup=False)
        output.table(
            "jobs (jobs.job_health)",
            ["job", "state", "last status", "last run", "last success", "failures", "next run (UTC)"],
            report["jobs"],
            ["job", "state", "last_status", "last_run", "last_success_at", "consecutive_failures", "next_run_at"],
        )
    if not report["healthy"]:
        raise typer.Exit(1)


@app.command("watch", cls=Command)
def watch_command(
    job: Annotated[Optional[str], typer.Argument(metavar="JOB", help="Only this job's runs.")] = None,
    timeout: Annotated[Optional[float], typer.Option("--timeout", help="Stop after this many seconds.")] = None,
    count: Annotated[Optional[int], typer.Option("--count", help="Stop after this many announcements.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON document per line, per announcement.")] = False,
    dsn: Dsn = None,
    env: Env = None,
    manifest: ManifestPath = None,
) -> None:
    """Show runs live as they start, progress and end (whoever runs them: pg_cron, a person),
    until Ctrl-C, --timeout or --count."""
    from deployer import watch

    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--timeout must be more than 0 seconds (a finite number), not {timeout}")
    if count is not None and count < 1:
        raise UsageError(f"--count must be 1 or more, not {count}")
    m = _manifest(manifest, env)
    channel = m.settings["notify_channel"]
    ready = (lambda: output.info(f"watching {job or 'every job'} on channel {channel}; Ctrl-C to stop"))
    try:
        for event in watch.events(require_session(local.resolve_dsn(dsn), "watch"), m, job, timeout=timeout, count=count, ready=ready):
            if json_out:
                output.stdout.write(json.dumps(event, sort_keys=False) + "\n")
                output.stdout.flush()
            else:
                output.out.print(watch.describe(event), markup=False)
    except KeyboardInterrupt:
        return


@app.command(cls=Command)
def dashboard(
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on; one other than loopback needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8765,
    token: Annotated[Optional[str], typer.Option(
        "--token", envvar="DEPLOYER_DASHBOARD_TOKEN", show_envvar=True, show_default=False,
        help="Secret every request must carry (Bearer header, or ?token= once for a cookie).")] = None,
    max_streams: Annotated[Optional[int], typer.Option(
        "--max-streams", envvar="DEPLOYER_DASHBOARD_MAX_STREAMS", show_envvar=True, show_default=False,
        help="Live pages served at once, all sharing one database connection; the next gets a 503. Default 50.")
    ] = None,
    connections: Annotated[Optional[int], typer.Option(
        "--connections", envvar="DEPLOYER_DASHBOARD_CONNECTIONS", show_envvar=True, show_default=False,
        help="Database connections the pages share (the Live pages' one is extra); a page waits 3 s for one, "
             "then gets a 503. Default 3.")] = None,
    simulation: Annotated[Path, typer.Option(
        "--simulation", help="The picture of the last `deployer simulate` to show.")] = simulate.PICTURE,
    dsn: Dsn = None,
    env: Env = None,
    manifest: ManifestPath = None,
) -> None:
    """A read-only web page of the job set: each job's health, its runs as a chart, its SQL,
    runs live as they happen, and the last simulation. Reads as the monitor role where there is one."""
    from deployer.dashboard import app as dashboard_app

    dashboard_app.check_bind(host, port, token)
    try:
        dashboard_app.serve(require_session(local.resolve_dsn(dsn), "the dashboard"), _manifest(manifest, env), host,
                            port, token, ready=output.info, max_streams=max_streams, connections=connections,
                            simulation=simulation)
    except KeyboardInterrupt:  # Ctrl-C is how it stops: uvicorn shut down cleanly, then re-raised it
        return


@app.command("lint", cls=Command)
def lint_command(json_out: Json = False, dsn: Dsn = None, env: Env = None, manifest: ManifestPath = None) -> None:
    """sqlfluff over every rendered template, and plpgsql_check of every function against the
    database inside a transaction that is rolled back. Exit 1 on any finding."""
    from deployer import lint

    report = lint.lint(local.resolve_dsn(dsn), _manifest(manifest, env))
    if json_out:
        output.print_json({"sqlfluff": [f.__dict__ for f in report.sqlfluff],
                           "plpgsql_check": [f.__dict__ for f in report.findings],
                           "checked": {"templates": report.templates, "functions": report.checked},
                           "note": report.note, "ok": report.ok})
    else:
        for style in report.sqlfluff:
            output.out.print(str(style), markup=False)
        for finding in report.findings:
            output.out.print(str(finding), markup=False)
        if report.note:
            output.info(f"note: {report.note}")
        output.out.print(f"{len(report.templates)} templates, {len(report.sqlfluff)} sqlfluff findings; "
                         f"{len(report.checked)} functions checked, {len(report.errors)} errors, "
                         f"{len(report.findings) - len(report.errors)} warnings", markup=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command(cls=Command)
def uninstall(
    force: Annotated[bool, typer.Option("--force", help="Do not ask.")] = False,
    json_out: Json = False,
    dsn: Dsn = None,
    env: Env = None,
    manifest: ManifestPath = None,
) -> None:
    """Unschedule the job set and drop its schema (history included). App tables stay."""
    m = _manifest(manifest, env)
    target = require_session(local.resolve_dsn(dsn), "uninstall")
    if not force:
        _confirm(f"uninstall drops the job set: its cron jobs, its schema {m.settings['jobs_schema']} with the run "
                 "history, and its indexes and triggers on the app's tables (the tables stay)", "Uninstall it now?", "uninstall")
    lines = install.uninstall(target, m)
    if json_out:
        output.print_json({"changes": lines})
        return
    for line in lines:
        output.out.print(line, markup=False)
    if not lines:
        output.out.print(f"nothing to uninstall: no schema {m.settings['jobs_schema']}, no cron job and no index of "
                         "the job set here", markup=False)


@app.command(cls=Command)
def seed(
    users: Annotated[int, typer.Option("--users", help="How many users.")] = 1000,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same data.")] = 1,
    now: Annotated[Optional[str], typer.Option("--now", help="Moment the data is relative to (ISO 8601).")] = None,
    json_out: Json = False,
    dsn: Dsn = None,
    env: Env = None,
    manifest: ManifestPath = None,
) -> None:
    """Install the reference SnapBet schema if missing and fill it with realistic data."""
    from deployer import demo

    counts = demo.seed_database(local.resolve_dsn(dsn), _manifest(manifest, env), users, seed_value,
                                run.parse_now(now))
    if json_out:
        output.print_json({"users": users, "seed": seed_value, "rows": counts})
        return
    output.table("seeded", ["table", "rows"], [{"table": k, "rows": v} for k, v in counts.items()])


@app.command("demo", cls=Command)
def demo_command(
    users: Annotated[int, typer.Option("--users", help="How many users to seed.")] = 2000,
    json_out: Annotated[bool, typer.Option("--json", help="The tour on stderr; one JSON summary on stdout.")] = False,
    dsn: Dsn = None,
    env: Env = None,
    manifest: ManifestPath = None,
) -> None:
    """Start the local cluster, deploy, seed, show the schedule, dry-run then run each job, show history."""
    from deployer import demo

    m = _manifest(manifest, env)
    if not json_out:
        demo.run(dsn, m, users)
        return
    people, output.out = output.out, output.err
    try:
        summary = demo.run(dsn, m, users)
    finally:
        output.out = people
    output.print_json(summary)


@db_app.command("start", cls=Command)
def db_start(port: Annotated[Optional[int], typer.Option("--port", help="Port for a new cluster.")] = None,
             bindir: Annotated[Optional[Path], typer.Option(
                 "--bindir", envvar="DEPLOYER_PG_BINDIR",
                 help="PostgreSQL's bin directory (any version with pg_cron); default: the cluster's own, "
                      "else the newest found.")] = None,
             json_out: Json = False) -> None:
    """Start the local cluster (create it first if needed). Idempotent."""
    cluster = local.default_cluster()
    if port is not None:
        local.check_port(cluster, port)
    started = cluster.start(port, bindir)
    if json_out:
        output.print_json({"state": "started" if started else "already running", "url": cluster.url(),
                           "version": cluster.server().version})
        return
    output.out.print(("started " if started else "already running ") + cluster.url(), markup=False)


@db_app.command("stop", cls=Command)
def db_stop(json_out: Json = False) -> None:
    """Stop the local cluster."""
    stopped = local.default_cluster().stop()
    if json_out:
        output.print_json({"state": "stopped" if stopped else "not running"})
        return
    output.out.print("stopped" if stopped else "not running", markup=False)


@db_app.command("status", cls=Command)
def db_status(json_out: Json = False) -> None:
    """Whether the local cluster runs. Exit 1 if not."""
    cluster = local.default_cluster()
    running = cluster.running()
    state = "running" if running else "not running" if cluster.initialized() else "not created"
    version = cluster.version if cluster.initialized() else None
    if json_out:
        output.print_json({"state": state, "url": cluster.url() if running else None,
                           "datadir": str(cluster.datadir) if cluster.initialized() else None, "version": version})
    elif running:
        made_by = f"PostgreSQL {version}, " if version else ""
        output.out.print(f"running {cluster.url()} ({made_by}data in {cluster.datadir})", markup=False)
    else:
        output.out.print(state, markup=False)
    if not running:
        raise typer.Exit(1)


@db_app.command("url", cls=Command)
def db_url(json_out: Json = False, dsn: Dsn = None) -> None:
    """Print the connection URL the deployer uses: the local cluster's, or --dsn /
    $DATABASE_URL with its password hidden (libpq finds it in PGPASSWORD or ~/.pgpass)."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    from deployer.db import redact

    given = dsn or os.environ.get("DATABASE_URL")
    if given:
        try:
            conninfo_to_dict(given)
        except ProgrammingError as exc:
            source = "--dsn" if dsn else "DATABASE_URL"
            raise UsageError(f"{source} is not a connection string: {str(exc).splitlines()[0]}") from None
        url = redact(given)
    else:
        cluster = local.default_cluster()
        if not cluster.initialized():
            raise UsageError("no local cluster yet: run `deployer db start`")
        url = cluster.url()
    if json_out:
        output.print_json({"url": url})
        return
    output.out.print(url, markup=False)


@media_app.command("purge", cls=Command)
def media_purge(
    root: Annotated[str, typer.Option("--root", help="Directory holding the files, as <root>/<bucket>/<name>.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the files it would delete; change nothing.")] = False,
    json_out: Json = False,
    dsn: Dsn = None,
    env: Env = None,
    manifest: ManifestPath = None,
) -> None:
    """Delete each file cleanup_media queued, then its storage.objects row, then mark it done.
    Exit 1 when a name was refused (it stays queued)."""
    from deployer import media

    m = _manifest(manifest, env)
    storage = media.directory(root)
    target = local.resolve_dsn(dsn)
    show = not json_out and output.err.is_terminal
    report = media.purge(target, m, storage, dry_run=dry_run, progress=output.progress if show else None)
    if json_out:
        output.print_json(report.as_json())
    else:
        rows = [{"outcome": i.outcome, "file": i.where or f"{i.bucket}/{i.name}", "why": i.why}
                for i in report.items if dry_run or i.outcome != "deleted"]
        if rows:
            output.table("media purge" + (" (dry run)" if dry_run else ""), ["outcome", "file", "why"], rows)
        counts = report.as_json()["counts"]
        output.out.print(", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing queued", markup=False)
    if report.count("refused"):
        raise typer.Exit(1)


def _click_exceptions() -> dict[str, tuple[type[BaseException], ...]]:
    """Click's exception classes: typer's own copy of click (recent releases carry one and no
    longer install click), and click itself when typer uses it."""
    modules = []
    for name in ("typer.exceptions", "typer._click.exceptions", "click.exceptions"):
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            pass
    names = ("NoArgsIsHelpError", "UsageError", "Abort")
    return {n: tuple(getattr(m, n) for m in modules if hasattr(m, n)) for n in names}


_CLICK = _click_exceptions()


def _standard_streams() -> None:
    """Started with stdin, stdout or stderr closed (`0<&-`): /dev/null in its place, so that
    no file the command opens later takes its number, and `sys.stdin` is a file that is not
    a terminal (a confirmation then asks for --force, as without one)."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            os.dup2(os.open(os.devnull, os.O_RDWR), fd)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", errors="replace", closefd=False))  # noqa: SIM115


def _quiet_stdout() -> None:
    """stdout on /dev/null, so that what is left in its buffer is not written to the closed
    pipe again at exit (Python would say so on stderr)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main() -> None:
    """Entry point: every error is one line and an exit code, never a traceback."""
    _standard_streams()
    try:
        code = app(standalone_mode=False, prog_name="deployer")
    except OutputClosed as exc:  # nobody reads any more: nothing to say, to no one
        _quiet_stdout()
        sys.exit(exc.exit_code)
    except MissingRights as exc:
        for line in exc.lines:  # one line per missing right, each with how to grant it
            output.error(line)
        sys.exit(exc.exit_code)
    except DeployerError as exc:
        output.error(str(exc))
        sys.exit(exc.exit_code)
    except _CLICK["NoArgsIsHelpError"] as exc:
        output.out.print(exc.format_message(), markup=False)
        sys.exit(0)
    except _CLICK["UsageError"] as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        output.error(exc.format_message() + hint)
        sys.exit(2)
    except _CLICK["Abort"]:
        output.error("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        output.error("interrupted")
        sys.exit(130)
    except OSError as exc:  # a file or directory it cannot use, where no command said better
        where = f"{exc.filename}: " if exc.filename else ""
        output.error(f"{where}{exc.strerror or exc}")
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback
        if os.environ.get("DEPLOYER_DEBUG"):
            raise
        output.error(f"internal error: {type(exc).__name__}: {exc} (set DEPLOYER_DEBUG=1 for a traceback)")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
