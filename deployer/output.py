"""Output: rich tables for people, one JSON document for machines, errors as one line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from deployer.errors import OutputClosed


class _Stream:
    """sys.stdout or sys.stderr, as found at each write (a caller may swap them), written
    whole. CPython's buffered writer can take a write its reader cut short (`| head` gone
    mid-write) as done and drop the rest silently; written to the descriptor until all of it
    is out, the rest meets the closed pipe: BrokenPipeError, which the CLI ends on."""

    def __init__(self, name: str):
        self.name = name

    @property
    def stream(self) -> Any:
        return getattr(sys, self.name)

    def write(self, text: str) -> int:
        stream = self.stream
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # not a file: a caller's own stream
            return stream.write(text)
        stream.flush()
        data = memoryview(text.encode(getattr(stream, "encoding", None) or "utf-8",
                                      getattr(stream, "errors", None) or "strict"))
        while data:
            data = data[os.write(fd, data):]
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding: the stream's own
        return getattr(self.stream, name)


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Its reader went away (`| head`): rich would exit 1, which means a job failed; the
        CLI ends quietly with OutputClosed's code instead."""
        self.quiet = True
        raise OutputClosed()


stdout, stderr = _Stream("stdout"), _Stream("stderr")
out = _Console(file=stdout, highlight=False,
               width=None if sys.stdout is not None and sys.stdout.isatty() else 160)
err = _Console(file=stderr, highlight=False, soft_wrap=True)


def error(message: str) -> None:
    """One line on stderr."""
    first = escape(" ".join(str(message).split()))  # "[settings] …" is text, not markup
    err.print(f"[bold red]error:[/] {first}", markup=True, highlight=False, emoji=False)


def info(message: str) -> None:
    err.print(message, markup=False, highlight=False, emoji=False)


def count(n: Any, one: str, many: str) -> str:
    """'1 batch', '2 batches'."""
    return f"{n} {one if n == 1 else many}"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def print_json(document: Any) -> None:
    stdout.write(json.dumps(document, default=_default, indent=2, sort_keys=False) + "\n")
    stdout.flush()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S%z")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items()) or "-"
    return str(value)


def table(title: str, columns: list[str], rows: list[dict[str, Any]], keys: list[str] | None = None) -> None:
    keys = keys or columns
    grid = Table(title=title, title_justify="left", show_lines=False, min_width=len(title))  # a title on one line
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*(_cell(row.get(k)) for k in keys))
    out.print(grid)


def progress(items, total: int):
    """Iterate `items` under a progress bar on stderr."""
    from rich.progress import track

    return track(items, total=total, description="purging", console=err, transient=True)


def failures(rows: list[dict[str, Any]]) -> None:
    """Below a history table: each failed run's error, SQLSTATE and where it was raised,
    innermost frame first."""
    for row in rows:
        if row.get("status") != "failed":
            continue
        out.print(f"#{row['id']} {row['job_name']} failed [SQLSTATE {row.get('sqlstate')}]: {row.get('error')}",
                  markup=False)
        for n, frame in enumerate((row.get("error_context") or "").splitlines()):
            out.print(f"    {'raised in' if n == 0 else 'called from'} {frame}", markup=False, soft_wrap=True)


def run_summary(result: Any) -> None:
    """A run, for people."""
    if result.status == "not run":
        out.print(f"{result.job}: {result.message}", markup=False)
        return
    mode = "dry run" if result.dry_run else "run"
    out.print(
        f"{result.job}: {mode} {result.status}, {result.affected} affected"
        + (f" in {count(result.batches, 'batch', 'batches')}" if result.batches is not None else "")
        + f" ({result.duration_ms} ms, now={result.now})",
        markup=False,
    )
    for key, value in (result.details or {}).items():
        out.print(f"  {key:<16} {_cell(value)}", markup=False)
    if result.changes == []:
        out.print(f"{result.job}: a run would award, revoke or expire no badge", markup=False)
    elif result.changes is not None:
        rows = [{**r, "users": ", ".join(r["users"])} for r in result.changes]
        table(f"{result.job}: what a run would change", ["badge", "change", "users"], rows, ["item", "change", "users"])


@contextmanager
def fires(description: str, enabled: bool = True) -> Iterator[Callable[[Any, int], None]]:
    """A progress bar on stderr, on a terminal, over a simulation's fires: yields what to call
    before each fire (the fire, how many in all)."""
    if not enabled or not err.is_terminal:
        yield lambda fire, total: None
        return
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def advance(fire: Any, total: int) -> None:
            if bar.tasks[0].total is None:
                bar.update(task, total=total, completed=0)
            else:
                bar.advance(task)
            bar.update(task, description=f"{fire.at:%a %d %b %H:%M} {fire.job}")

        yield advance


def simulation(sims: list[tuple[str, Any]], every: bool) -> None:
    """A simulation for people: how the copy was made, the timeline (one table, or the two
    side by side), then each job's summary."""
    from deployer.simulate import telling

    for label, sim in sims:
        out.print(f"{label}: {sim.manifest.path}: {len(sim.steps)} fires of {len(sim.jobs)} jobs from "
                  f"{sim.start.isoformat()} to {sim.end.isoformat()} ({_cron(sim.cron)}), "
                  f"{sim.seconds:.1f} s; {sim.copy}", markup=False)
    if len(sims) == 1:
        steps = sims[0][1].steps
        shown = [s for s in steps if every or s.affected or s.status != "succeeded"]
        rows = [{"at": s.at, "job": s.job, "status": s.status, "affected": s.affected,
                 "details": s.error or telling(s.details)} for s in shown]
        table("timeline", ["fire (UTC)", "job", "status", "affected", "details"], rows,
              ["at", "job", "status", "affected", "details"])
    else:
        table("timelines", ["fire (UTC)", "job", sims[0][0], sims[1][0]], _side_by_side(sims, every),
              ["at", "job", "base", "other"])
    if len(sims) == 1 and not every and len(shown) < len(steps):
        out.print(f"{len(steps) - len(shown)} fires that changed nothing are not listed (--all lists them)",
                  markup=False)
    for label, sim in sims:
        rows = [{**r, "statuses": ", ".join(f"{k} {v}" for k, v in r["statuses"].items()),
                 "details": telling(r["details"])} for r in sim.summary()]
        table(f"summary per job ({label})", ["job", "fires", "statuses", "affected", "ms", "details (summed)"], rows,
              ["job", "fires", "statuses", "affected", "duration_ms", "details"])


def _cron(rules: Any) -> str:
    """How the fires were read: 'pg_cron 1.6, cron.timezone Europe/Paris'; 1.4 reads every
    schedule in UTC."""
    if rules.version == "1.4":
        return "pg_cron 1.4, in UTC"
    return f"pg_cron {rules.version or '1.6 (none on the source)'}, cron.timezone {rules.zone}"


def _side_by_side(sims: list[tuple[str, Any]], every: bool) -> list[dict[str, Any]]:
    """Both timelines on one time axis: a row per (fire, job), each side's outcome or '-'."""
    sides = [{(s.at, s.job): s for s in sim.steps} for _, sim in sims]
    order = {job: i for _, sim in sims for i, job in enumerate(sim.jobs)}
    rows = []
    for at, job in sorted(set(sides[0]) | set(sides[1]), key=lambda k: (k[0], order.get(k[1], 0))):
        cells = [side.get((at, job)) for side in sides]
        briefs = [f"{c.status}, {c.affected}" if c else None for c in cells]
        if every or briefs[0] != briefs[1] or any(c and c.affected for c in cells):
            rows.append({"at": at, "job": job, "base": briefs[0], "other": briefs[1]})
    return rows


def differences(found: dict[str, Any]) -> None:
    """What differs between two simulations of a window."""
    if not any(found.values()):
        out.print("the two simulations agree: same fires, same outcomes, same rows", markup=False)
        return
    for move in found["moved"]:
        out.print(f"{move['job']}: {len(move['only_base'])} fires only in base, {len(move['only_other'])} only in "
                  "other", markup=False)
    if found["changed"]:
        table("fires that end otherwise", ["fire (UTC)", "job", "base", "other"], found["changed"],
              ["at", "job", "base", "other"])
    if found["jobs"]:
        table("rows changed per job", ["job", "base", "other"], found["jobs"],
              ["job", "base_affected", "other_affected"])
    if found["tables"]:
        table("tables whose rows end different", ["table", "rows only in base", "rows only in other"],
              found["tables"], ["table", "only_base", "only_other"])
