"""Indexes the job set needs on the app's tables (docs/rules.md: The runner: a run costs what its rows cost).

Each job may have sql/indexes/<job>.sql: one `CREATE INDEX CONCURRENTLY <name> ON ...;`
statement per index the job's queries need and SnapBet's schema lacks. They are the job
set's own: named `jobset_*`, marked by a comment that holds their definition's checksum,
built CONCURRENTLY after the deploy's transaction has committed (the app keeps writing
meanwhile), rebuilt when the definition changes or an earlier concurrent build left an
invalid index, and dropped by `uninstall` and when no job wants them any more.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import psycopg

from deployer.db import translated
from deployer.errors import ConfigError
from deployer.manifest import Manifest
from deployer.render import make_env, quote_ident, quote_literal, render, sql_root

STATEMENT_RE = re.compile(r"^\s*CREATE\s+INDEX\s+CONCURRENTLY\s+(jobset_[a-z0-9_]+)\s+ON\s", re.IGNORECASE)


def _marker(js: str) -> str:
    """The start of the comment that marks an index as the job set's."""
    return f"snapbet job set ({js}) index "


@dataclass(frozen=True)
class Index:
    job: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IndexChange:
    action: str  # create, rebuild, drop
    name: str
    why: str = ""
    index: Index | None = None

    def describe(self) -> str:
        return f"{self.action} index {self.name}" + (f" ({self.why})" if self.why else "")


def wanted(manifest: Manifest) -> dict[str, Index]:
    """The indexes the manifest's jobs need, by name."""
    env = make_env()
    out: dict[str, Index] = {}
    for job in manifest.jobs.values():
        if not (sql_root() / "indexes" / f"{job.name}.sql").is_file():
            continue
        rendered = render(f"indexes/{job.name}.sql", manifest.template_vars(job), env).sql
        for statement in _statements(rendered):
            match = STATEMENT_RE.match(statement)
            if match is None:
                raise ConfigError(f"indexes/{job.name}.sql: every statement must be "
                                  f"CREATE INDEX CONCURRENTLY jobset_<name> ON ..., not {statement[:60]!r}")
            name = match.group(1)
            if name in out:
                raise ConfigError(f"indexes/{job.name}.sql: index {name} is defined twice")
            out[name] = Index(job.name, name, statement)
    return out


def build_scripts(manifest: Manifest) -> list[tuple[str, str]]:
    """Per job, the SQL deploy runs to build its indexes where none exist yet, as a file
    (`indexes/<job>.sql`) `deployer render` writes: each statement on its own, after the
    deploy's transaction, since CREATE INDEX CONCURRENTLY cannot run inside one."""
    app, js = manifest.settings["app_schema"], manifest.settings["jobs_schema"]
    by_job: dict[str, list[str]] = {}
    for index in wanted(manifest).values():
        by_job.setdefault(index.job, []).append(
            f"{index.sql};\nCOMMENT ON INDEX {quote_ident((app, index.name))} IS "
            f"{quote_literal(_marker(js) + index.checksum)};\n")
    head = ("-- Built by deploy after its transaction has committed, one statement at a time\n"
            "-- (CREATE INDEX CONCURRENTLY cannot run in a transaction block).\n")
    return [(f"indexes/{job}.sql", head + "\n".join(parts)) for job, parts in by_job.items()]


def _statements(text: str) -> list[str]:
    """The statements of a rendered index file (no semicolons inside them)."""
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in code.split(";") if s.strip()]


def existing(conn: psycopg.Connection, manifest: Manifest) -> dict[str, dict]:
    """The job set's indexes in the app schema: name -> {checksum, valid}."""
    rows = conn.execute(
        "SELECT c.relname AS name, i.indisvalid AS valid, d.description"
        "  FROM pg_catalog.pg_class c"
        "  JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid"
        "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        "  LEFT JOIN pg_catalog.pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass"
        " WHERE n.nspname = %s AND c.relname LIKE 'jobset\\_%%'",
        (manifest.settings["app_schema"],),
    ).fetchall()
    marker = _marker(manifest.settings["jobs_schema"])
    return {
        r["name"]: {"valid": r["valid"], "checksum": (r["description"] or "")[len(marker):]}
        for r in rows
        if (r["description"] or "").startswith(marker) or not r["valid"]
    }


def plan(conn: psycopg.Connection, manifest: Manifest) -> list[IndexChange]:
    want, have = wanted(manifest), existing(conn, manifest)
    # A wanted name taken by an index without the job set's mark (built by hand, or restored
    # without comments): rebuilt, not created beside it (which would fail on the name).
    taken = {r["name"] for r in conn.execute(
        "SELECT c.relname AS name FROM pg_catalog.pg_class c"
        " WHERE c.relnamespace = to_regnamespace(%s) AND c.relkind = 'i' AND c.relname = ANY (%s)",
        (quote_ident(manifest.settings["app_schema"]), [n for n in want if n not in have]))}
    changes = []
    for name, index in want.items():
        present = have.get(name)
        if name in taken:
            changes.append(IndexChange("rebuild", name, "an index of that name lacks the job set's mark", index))
        elif present is None:
            changes.append(IndexChange("create", name, f"for {index.job}", index))
        elif not present["valid"]:
            changes.append(IndexChange("rebuild", name, "an earlier concurrent build left it invalid", index))
        elif present["checksum"] != index.checksum:
            changes.append(IndexChange("rebuild", name, "its definition changed", index))
    changes += [IndexChange("drop", name, "no job needs it") for name in sorted(set(have) - set(want))]
    return changes


def apply(conn: psycopg.Connection, manifest: Manifest, changes: list[IndexChange]) -> None:
    """Carry out the changes on an autocommit connection: each index is built CONCURRENTLY,
    so the app's writes go on; a failed build leaves an invalid index the next deploy rebuilds."""
    app, js = manifest.settings["app_schema"], manifest.settings["jobs_schema"]
    with translated():
        for change in changes:
            qualified = quote_ident((app, change.name))
            if change.action in ("rebuild", "drop"):
                conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified}")
            if change.index is not None:
                conn.execute(change.index.sql)
                conn.execute(f"COMMENT ON INDEX {qualified} IS "
                             f"{quote_literal(_marker(js) + change.index.checksum)}")


def drop_all(conn: psycopg.Connection, manifest: Manifest) -> list[str]:
    """Drop every index of the job set (uninstall)."""
    changes = [IndexChange("drop", name) for name in sorted(existing(conn, manifest))]
    apply(conn, manifest, changes)
    return [c.describe() for c in changes]

