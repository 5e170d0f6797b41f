"""A job's runs over time as an SVG drawn on the server: no script, no library, no network.

Two panels share the time axis: duration (one circle per run, the run's mark) above, rows
affected (one bar per run) below. A failed run's mark is red and a red line crosses both
panels at its time; a run still going (or skipped) sits on the duration axis, hollow.
Colours come from classes (static/style.css), so the page's stylesheet is the one palette.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from markupsafe import Markup, escape

WIDTH, LEFT, RIGHT = 900, 64, 16
TOP_H, BOTTOM_H, GAP, AXIS = 170, 90, 26, 24
FAILED = ("failed", "abandoned")


def _nice(top: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^n at or above `top` (at least 1)."""
    if top <= 1:
        return 1.0
    magnitude = 10 ** (len(str(int(top))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= top:
            return step * magnitude
    return 10.0 * magnitude


def _number(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:g}"


STEPS = [timedelta(minutes=m) for m in (5, 15, 30, 60, 180, 360, 720)] + [timedelta(days=d) for d in (1, 2, 7, 14)]


def _ticks(start: datetime, end: datetime) -> list[datetime]:
    """Round moments (UTC) between `start` and `end`, four to ten of them where possible."""
    step = next((s for s in STEPS if (end - start) / s <= 10), STEPS[-1])
    seconds = step.total_seconds()
    epoch = datetime(2000, 1, 3, tzinfo=timezone.utc)  # a Monday midnight: weeks tick on Mondays
    at = epoch + timedelta(seconds=((start - epoch).total_seconds() // seconds + 1) * seconds)
    ticks = []
    while at < end:
        ticks.append(at)
        at += step
    return ticks


def domain(runs: list[dict[str, Any]], start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The time axis: the window, narrowed to where its runs are (with a margin), so that a
    job run a few times this morning is not a smudge at the right of a week."""
    if not runs:
        return start, end
    first = min(r["executed_at"] for r in runs)
    margin = max((end - first) * 0.05, timedelta(minutes=5))
    return max(start, first - margin), end


def runs_chart(runs: list[dict[str, Any]], start: datetime, end: datetime, job: str) -> Markup:
    """The SVG of `runs` (oldest first), the window from `start` to `end`."""
    start, end = domain(runs, start.astimezone(timezone.utc), end.astimezone(timezone.utc))
    span = max((end - start).total_seconds(), 1.0)
    inner = WIDTH - LEFT - RIGHT
    top_y0, bottom_y0 = TOP_H, TOP_H + GAP + BOTTOM_H
    height = bottom_y0 + AXIS
    max_ms = _nice(max([r["duration_ms"] or 0 for r in runs] + [1]))
    max_aff = _nice(max([r["affected_count"] or 0 for r in runs] + [1]))
    bar = max(2.0, min(12.0, inner / max(len(runs), 1) * 0.6))

    def x(at: datetime) -> float:
        return LEFT + inner * min(max((at - start).total_seconds() / span, 0.0), 1.0)

    out = [(f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-label="{escape(job)}: duration and rows affected of {len(runs)} runs" '
            f'xmlns="http://www.w3.org/2000/svg">')]
    for y0, h, top, label in ((top_y0, TOP_H - 16, max_ms, "duration (ms)"),
                              (bottom_y0, BOTTOM_H, max_aff, "affected")):
        out.append(f'<text class="axis-title" x="{LEFT}" y="{y0 - h - 4}">{label}</text>')
        for frac in (0, 0.5, 1):
            y = y0 - h * frac
            out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
            out.append(f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                       f'{_number(top * frac)}</text>')
    for tick in _ticks(start, end):
        tx = x(tick)
        label = f"{tick:%d %b}" if (tick.hour, tick.minute) == (0, 0) else f"{tick:%H:%M}"
        out.append(f'<line class="tick" x1="{tx:.1f}" x2="{tx:.1f}" y1="{bottom_y0}" y2="{bottom_y0 + 5}"/>')
        out.append(f'<text class="axis" x="{tx:.1f}" y="{bottom_y0 + 18}" text-anchor="middle">{label}</text>')
    if not runs:
        out.append(f'<text class="empty" x="{LEFT + inner / 2}" y="{top_y0 - TOP_H / 2}" text-anchor="middle">'
                   f'no runs in this window</text>')
    for run in runs:
        rx = x(run["executed_at"])
        if run["status"] in FAILED:
            out.append(f'<line class="fail-line" x1="{rx:.1f}" x2="{rx:.1f}" y1="{top_y0 - TOP_H + 16}" '
                       f'y2="{bottom_y0}"/>')
        affected = run["affected_count"] or 0
        bh = (BOTTOM_H * affected / max_aff) if affected else 0
        out.append(f'<rect class="bar {escape(run["status"])}" x="{rx - bar / 2:.1f}" y="{bottom_y0 - bh:.1f}" '
                   f'width="{bar:.1f}" height="{bh:.1f}"/>')
    for run in runs:  # marks last, above the lines and bars
        rx = x(run["executed_at"])
        ms = run["duration_ms"]
        ry = top_y0 - (TOP_H - 16) * (ms or 0) / max_ms
        tip = (f'#{run["id"]} {run["status"]} at {run["executed_at"].astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC: '
               f'{"—" if ms is None else f"{ms} ms"}, {run["affected_count"] or 0} affected, '
               f'{run["batches"] or 0} batches')
        out.append(f'<circle class="mark {escape(run["status"])}" data-run-id="{run["id"]}" '
                   f'data-status="{escape(run["status"])}" cx="{rx:.1f}" cy="{ry:.1f}" '
                   f'r="{6 if run["status"] in FAILED else 4}"><title>{escape(tip)}</title></circle>')
    out.append("</svg>")
    return Markup("".join(out))
