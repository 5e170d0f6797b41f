"""Running a job by hand: a dry run in a READ ONLY transaction, or a real run through
CALL jobs.run_job with progress from its NOTICEs; and `run all`, every enabled job in the
order of their `after`, a job left out when one it runs after did not succeed."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import psycopg

from deployer.db import connect, exists, translate, translated
from deployer.errors import ConfigError, JobFailed, UsageError
from deployer.manifest import Manifest, run_order
from deployer.render import quote_ident
from deployer.units import JOB_SIGNATURES

Progress = Callable[[str], None]


@dataclass
class RunResult:
    job: str
    status: str
    dry_run: bool
    affected: int
    details: dict[str, Any]
    duration_ms: int
    now: str
    limit: int | None
    batches: int | None = None
    batch_sizes: list[int] | None = None
    execution_id: int | None = None
    message: str | None = None
    error: str | None = None
    sqlstate: str | None = None
    error_context: str | None = None
    notices: list[str] = field(default_factory=list)
    # A verbose dry run of a job with a jobs.<job>_changes(p_now) function: what changes for
    # whom, as rows {item, change, users}.
    changes: list[dict[str, Any]] | None = None

    def as_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "notices" and not (k == "changes" and v is None)}
        return out


def selected(manifest: Manifest, job: str) -> list[str]:
    """The jobs `run JOB` runs: the one named; with `all`, every enabled job, each after the
    jobs its `after` names."""
    return [n for n in run_order(manifest) if manifest.jobs[n].enabled] if job == "all" else [manifest.job(job).name]


def in_order(
    manifest: Manifest, names: list[str], run_one: Callable[[str], RunResult], *, dry_run: bool,
    now: datetime | None, limit: int | None,
) -> Iterator[RunResult | JobFailed]:
    """Run each of `names` in turn with `run_one`, yielding each outcome as it ends: its
    result, or the JobFailed of a failed run (its result in .result). A job whose `after`
    names one that failed, or one itself not run, is not run (a 'not run' result). Any other
    error ends the sequence."""
    stopped: set[str] = set()  # failed, or not run because a job it runs after failed
    for name in names:
        blocked = [dep for dep in manifest.jobs[name].after if dep in stopped]
        if blocked:
            stopped.add(name)
            yield not_run(name, dry_run, now, limit, f"not run: {', '.join(blocked)} did not succeed")
            continue
        try:
            outcome: RunResult | JobFailed = run_one(name)
        except JobFailed as exc:
            stopped.add(name)
            outcome = exc
        yield outcome


def document(results: list[RunResult | None], single: bool = False) -> Any:
    """The runs' JSON: a list (also what already ran when an error ended `run all`), or the
    one run's document for `run JOB` (single)."""
    docs = [r.as_json() for r in results if r is not None]
    return docs[0] if single and docs else docs


def not_run(job: str, dry_run: bool, now: datetime | None, limit: int | None, why: str) -> RunResult:
    """A job `run all` left out because a job it runs after did not succeed."""
    return RunResult(job=job, status="not run", dry_run=dry_run, affected=0, details={}, duration_ms=0,
                     now=(now or datetime.now(timezone.utc)).isoformat(), limit=limit, message=why)


def origin(error_context: str | None) -> str | None:
    """The frame that raised a failed run's error: the first line of its error_context."""
    return error_context.splitlines()[0] if error_context else None


def parse_now(text: str | None) -> datetime | None:
    """--now as ISO 8601; a time without a zone is taken as UTC."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now {text!r} is not an ISO 8601 time such as 2026-11-30T00:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


INT4_MAX = 2**31 - 1


def check_limit(limit: int | None) -> int | None:
    if limit is not None and not 0 <= limit <= INT4_MAX:
        raise UsageError(f"--limit must be from 0 to {INT4_MAX}, not {limit}")
    return limit


def _iso(text: str | None) -> str:
    """A timestamp as Python writes it, so dry and real runs print the same text."""
    return datetime.fromisoformat(text).isoformat() if text else ""


def _who() -> str:
    try:
        return f"deployer:{getpass.getuser()}"
    except (KeyError, OSError):
        return "deployer"


def _check_deployed(conn: psycopg.Connection, manifest: Manifest, job: str) -> None:
    js = manifest.settings["jobs_schema"]
    if not exists(conn, "function", f"{quote_ident((js, job))}({JOB_SIGNATURES[0]})"):
        raise ConfigError(f"job {job!r} is not deployed in this database: run `deployer deploy` first")


def dry_run(
    dsn: str, manifest: Manifest, job: str, now: datetime | None, limit: int | None, verbose: bool = False
) -> RunResult:
    """What a real run at `now` would do, computed in a READ ONLY transaction. With `verbose`,
    a job that has a jobs.<job>_changes(p_now) function also lists what a whole run would
    change for whom (calculate_badges: the usernames gaining and losing each badge)."""
    manifest.job(job)
    conn = connect(dsn, autocommit=False)
    conn.read_only = True
    started = time.monotonic()
    try:
        with translated():
            _check_deployed(conn, manifest, job)
            js = manifest.settings["jobs_schema"]
            row = conn.execute(
                f"SELECT {quote_ident((js, job))}(coalesce(%s::timestamptz, now()), true, %s) AS r,"
                " coalesce(%s::timestamptz, now()) AS now",
                (now, limit, now),
            ).fetchone()
            changes = None
            lister = quote_ident((js, f"{job}_changes"))
            if verbose and exists(conn, "function", f"{lister}(timestamptz)"):
                changes = [dict(r) for r in conn.execute(f"SELECT * FROM {lister}(%s)", (row["now"],)).fetchall()]
        conn.rollback()
    finally:
        conn.close()
    result = row["r"]
    return RunResult(
        job=job, status="succeeded", dry_run=True, affected=int(result.get("affected") or 0),
        details=result.get("details") or {}, duration_ms=round((time.monotonic() - started) * 1000),
        now=row["now"].isoformat(), limit=limit, changes=changes,
    )


def real_run(
    dsn: str, manifest: Manifest, job: str, now: datetime | None, limit: int | None, progress: Progress | None = None
) -> RunResult:
    """CALL jobs.run_job; its NOTICEs go to `progress`. Raises JobFailed when the job fails."""
    manifest.job(job)
    notices: list[str] = []

    def on_notice(diag: psycopg.errors.Diagnostic) -> None:
        text = diag.message_primary or ""
        notices.append(text)
        if progress is not None:
            progress(text)

    conn = connect(dsn, autocommit=True, notice=on_notice)
    try:
        with translated():
            _check_deployed(conn, manifest, job)
        return run_on(conn, manifest, job, now, limit, notices)
    finally:
        conn.close()


def run_on(
    conn: psycopg.Connection, manifest: Manifest, job: str, now: datetime | None, limit: int | None,
    notices: list[str] | None = None,
) -> RunResult:
    """A real run on an open autocommit session (a simulation runs its fires on one):
    CALL jobs.run_job, then read the run this session recorded. `notices`: the session's
    NOTICEs so far, kept with the result. Raises JobFailed when the job fails."""
    notices = notices if notices is not None else []
    js = manifest.settings["jobs_schema"]
    failure = None
    try:
        conn.execute(
            f"CALL {quote_ident(js)}.run_job(%s, %s::timestamptz, %s, %s)", (job, now, limit, _who())
        )
    except psycopg.OperationalError as exc:
        if exc.sqlstate is None:
            raise translate(exc) from None
        failure = exc
    except psycopg.Error as exc:
        failure = exc
    with translated():
        # This session's run: same backend, and not an older session's row whose pid was reused.
        row = conn.execute(
            f"SELECT * FROM {quote_ident(js)}.job_executions"
            " WHERE job_name = %s AND backend_pid = pg_backend_pid()"
            " AND executed_at >= (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())"
            " ORDER BY id DESC LIMIT 1",
            (job,),
        ).fetchone()
    if failure is not None and (row is None or row["status"] != "failed"):
        raise translate(failure)
    if row is None:
        raise UsageError(f"job {job} was not run: {notices[-1] if notices else 'the server recorded no run'}")
    result = RunResult(
        job=job, status=row["status"], dry_run=False, affected=int(row["affected_count"] or 0),
        details=row["details"] or {}, duration_ms=int(row["duration_ms"] or 0),
        now=_iso((row["params"] or {}).get("now")), limit=limit, batches=row["batches"], batch_sizes=row["batch_sizes"],
        execution_id=row["id"], message=row["message"], error=row["error"], sqlstate=row["sqlstate"],
        error_context=row["error_context"], notices=notices,
    )
    if failure is not None:
        where = f" in {origin(row['error_context'])}" if row["error_context"] else ""
        raise JobFailed(
            f"job {job} failed: {row['error']} [SQLSTATE {row['sqlstate']}]{where} (execution {row['id']})",
            sqlstate=row["sqlstate"],
        ).with_result(result)
    return result
