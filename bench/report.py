"""The suite's results as Markdown: the run, the cluster's settings, the templates, one table
per scenario with its notes, and one line per goal."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from bench.common import Section


@dataclass
class Report:
    scale: str
    runs: int
    started: str
    machine: str
    code: str = ""
    settings: list[tuple[str, str]] = field(default_factory=list)
    cron_jobs: int = 0
    templates: list[dict] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    seconds: float = 0.0
    load: str = ""

    def section(self, scenario: str) -> Section:
        return next(s for s in self.sections if s.scenario == scenario)


def fmt(key: str, value: Any) -> str:
    """A value for a table cell; the key's suffix says what it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "**NO**"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if key.endswith("_s"):
        return duration(value)
    if key.endswith("_ms"):
        return f"{value:,.1f} ms"
    if key == "ratio":
        return f"{value:.2f}×"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.2f} s"
    return f"{int(seconds // 60)} min {seconds % 60:02.0f} s"


def table(headings: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    out += ["| " + " | ".join(cells) + " |" for cells in rows]
    return out


def render(report: Report) -> str:
    lines = [f"# Job set benchmarks: scale `{report.scale}`, median of {report.runs} run(s)", "",
             f"{report.started}; {report.machine}; load average {report.load}; "
             f"the suite took {duration(report.seconds)}.", "", f"Job set measured: {report.code}.",
             "", "## Cluster", ""]
    lines += table(["setting", "value"], [[k, f"`{v}`"] for k, v in report.settings])
    lines += ["", f"pg_cron jobs scheduled in the bench cluster: {report.cron_jobs}.", "", "## Templates", ""]
    lines += table(["template", "contents", "built in"],
                   [[t["template"], t["what"], duration(t["seconds"])] for t in report.templates])
    for section in report.sections:
        lines += ["", f"## {section.scenario}: {section.title}", ""]
        lines += table([h for _, h in section.columns],
                       [[fmt(k, row.get(k)) for k, _ in section.columns] for row in section.rows])
        lines += [""] + section.notes + [f"(took {duration(section.seconds)})"]
    lines += ["", "## Goals", ""] + [f"- {goal}" for s in report.sections for goal in s.goals]
    return "\n".join(lines) + "\n"
