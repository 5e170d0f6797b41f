"""The sqlfluff half of `deployer lint`: every template rendered exactly as deploy renders
it (deployer.render's one Environment, the manifest's variables), then linted by sqlfluff
with the repository's .sqlfluff (postgres dialect).

sqlfluff's own jinja templater cannot follow these templates (its tracer loses count of a
caller() body that a macro emits twice, as select_apply does: "Length of templated file
mismatch"), so the project renders them and sqlfluff reads the result. To report a finding
at its template line, every line of template text carries an invisible marker through the
render (a lexer stream filter on the same Environment); the markers are removed before
sqlfluff sees the SQL and give, for each rendered line, the template file and line it came
from (a macro's own file for what a macro wrote).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from deployer.manifest import Manifest
from deployer.render import framework_templates, make_env, render, sql_root
from deployer.units import PRIVILEGES_UNIT, job_unit

MARK = re.compile("\x01([^\x02]*)\x02")
SEED_VARS = {"users": 2000, "seed": 1, "now": "2026-11-29T20:00:00+00:00"}


@dataclass(frozen=True)
class SqlfluffFinding:
    path: str  # relative to the SQL root's parent, e.g. 'sql/jobs/cleanup.sql'
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule} {self.message}"


class _LineMarks(Extension):
    """Prefix each line of template text with \\x01<template>:<line>\\x02."""

    def filter_stream(self, stream: TokenStream):
        name = stream.name or "?"
        for token in stream:
            if token.type != "data":
                yield token
                continue
            parts = token.value.split("\n")
            out = []
            for i, part in enumerate(parts):
                if i == len(parts) - 1 and part == "":
                    out.append(part)
                else:
                    out.append(f"\x01{name}:{token.lineno + i}\x02{part}")
            yield Token(token.lineno, "data", "\n".join(out))


def templates(manifest: Manifest, root: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every template deploy, seed and the index builder render, with its variables."""
    base = manifest.template_vars()
    out = [(name, base) for name in framework_templates(root)]
    out += [(f"app/{p.name}", base) for p in sorted((root / "app").glob("*.sql"))]
    for job in manifest.jobs.values():
        out.append((job_unit(job.name), manifest.template_vars(job)))
        if (root / "indexes" / f"{job.name}.sql").is_file():
            out.append((f"indexes/{job.name}.sql", manifest.template_vars(job)))
    out.append((PRIVILEGES_UNIT, base))
    if (root / "seed" / "seed.sql").is_file():
        out.append(("seed/seed.sql", {**base, **SEED_VARS}))
    return out


def _origins(marked: str) -> tuple[str, list[str]]:
    """The clean SQL, and for each of its lines the 'template:line' it came from."""
    origins, last = [], "?:1"
    for line in marked.split("\n"):
        found = MARK.search(line)
        if found:
            last = found.group(1)
        origins.append(last)
    return MARK.sub("", marked), origins


def config_dir() -> Path:
    """Where .sqlfluff is: inside the installed package (the wheel puts it there), or the
    checkout's root; the same rules whatever copy of sql/ is linted."""
    here = Path(__file__).resolve().parent
    return here if (here / ".sqlfluff").is_file() else here.parent


def lint(manifest: Manifest) -> tuple[list[str], list[SqlfluffFinding]]:
    """Lint every template; returns the template names checked and the findings."""
    from sqlfluff.core import FluffConfig, Linter

    root = sql_root()
    config = FluffConfig.from_path(str(config_dir()), overrides={"dialect": "postgres", "templater": "raw"})
    linter = Linter(config=config)
    env = make_env(root)
    env.add_extension(_LineMarks)
    checked, findings = [], set()
    for name, variables in templates(manifest, root):
        sql, origins = _origins(render(name, variables, env).sql)
        checked.append(name)
        for v in linter.lint_string(sql, fname=name).get_violations():
            origin = origins[min(max(v.line_no, 1), len(origins)) - 1]
            template, _, line = origin.rpartition(":")
            findings.add(SqlfluffFinding(f"{root.name}/{template}", int(line), v.rule_code(), v.desc()))
    return checked, sorted(findings, key=lambda f: (f.path, f.line, f.rule))
