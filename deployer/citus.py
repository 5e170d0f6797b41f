"""Citus: whether the database is a Citus coordinator, and the distribution of SnapBet's
tables there (docs/citus.md).

On a coordinator the job set deploys as anywhere else, and then:
- `deploy --with-app-schema` distributes the reference schema (sql/citus/distribute.sql)
  after installing it, in a transaction of its own before the job set's;
- the per-user tables the job set keeps in the app schema (user_stats, user_effect_tiers)
  are distributed by user_id, co-located with bets and bankrolls, in the deploy's
  transaction;
- the jobs schema's own tables (history, registry, state, the media purge queue) stay
  plain tables on the coordinator, where run_job and pg_cron work.
A node that is a Citus worker is refused: deploy to the coordinator.
"""

from __future__ import annotations

import dataclasses
import re

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from deployer.errors import ConfigError
from deployer.manifest import Manifest
from deployer.render import render

DISTRIBUTE = "citus/distribute.sql"
# The job set's tables in the app schema, distributed as bankrolls is (docs/citus.md).
JOB_TABLES = ("user_stats", "user_effect_tiers")


def role(conn: psycopg.Connection) -> str | None:
    """'coordinator' or 'worker' when the citus extension is in this database, else None."""
    with conn.cursor(row_factory=tuple_row) as cur:
        if cur.execute("SELECT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus')").fetchone()[0]:
            return "coordinator" if cur.execute("SELECT citus_is_coordinator()").fetchone()[0] else "worker"
    return None


def require_coordinator(conn: psycopg.Connection) -> bool:
    """True on a Citus coordinator, False without Citus; a worker is a ConfigError."""
    found = role(conn)
    if found == "worker":
        raise ConfigError("this database is a Citus worker: deploy to the coordinator, where pg_cron runs the jobs")
    return found == "coordinator"


def for_database(conn: psycopg.Connection, manifest: Manifest) -> Manifest:
    """The manifest as the templates render for this database: with `citus` true on a
    Citus coordinator (the few statements Citus runs otherwise, docs/citus.md)."""
    if manifest.citus or role(conn) != "coordinator":
        return manifest
    return dataclasses.replace(manifest, citus=True)


def keep_roles_local(conn: psycopg.Connection) -> None:
    """For a deploying role that is not a superuser: Citus would send each role the job set's
    objects depend on to the workers with all its attributes (NOSUPERUSER included), which
    only a superuser may state. Such a deploy leaves roles alone (a superuser creates the job
    set's roles on the cluster once, docs/citus.md) for the rest of its transaction."""
    with conn.cursor(row_factory=tuple_row) as cur:
        if not cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            cur.execute("SET LOCAL citus.enable_create_role_propagation = off")
            cur.execute("SET LOCAL citus.enable_alter_role_propagation = off")


def check_roles(conn: psycopg.Connection, changes: list[str]) -> None:
    """On Citus only a superuser changes roles (keep_roles_local): a deploying role that is not
    one, and would have to, is told in one line what a superuser must do first."""
    with conn.cursor(row_factory=tuple_row) as cur:
        superuser = cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
    if changes and not superuser:
        raise ConfigError(f"on Citus only a superuser may change roles (Citus sends them to every node): have one "
                          f"{changes[0]}{' and ' + str(len(changes) - 1) + ' more' if len(changes) > 1 else ''} "
                          "(docs/citus.md, Who does what), then deploy again")


def distribute_app_schema(conn: psycopg.Connection, variables: dict) -> None:
    """sql/citus/distribute.sql: reference and distributed tables of the reference schema."""
    conn.execute(render(DISTRIBUTE, variables).sql)


def distributed(conn: psycopg.Connection, schema: str, table: str) -> bool:
    with conn.cursor(row_factory=tuple_row) as cur:
        return bool(cur.execute(
            "SELECT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = to_regclass(%s) AND partmethod = 'h')",
            (sql.Identifier(schema, table).as_string(conn),)).fetchone()[0])


def distribute_job_tables(conn: psycopg.Connection, app_schema: str) -> list[str]:
    """Distribute the job set's per-user tables by user_id beside bankrolls; those done
    already are left alone. Returns the tables distributed now."""
    if not distributed(conn, app_schema, "bankrolls"):
        return []  # SnapBet's tables are not distributed here: neither are the job set's
    done = []
    for table in JOB_TABLES:
        name = sql.Identifier(app_schema, table).as_string(conn)
        with conn.cursor(row_factory=tuple_row) as cur:
            present = cur.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]
        if present and not distributed(conn, app_schema, table):
            # Default co-location: the uuid group every SnapBet table is in (sql/citus/distribute.sql).
            conn.execute("SELECT create_distributed_table(%s::regclass, 'user_id')", (name,))
            done.append(table)
    return done


def statements(text: str) -> list[str]:
    """The statements of a rendered template, split at the semicolons outside quotes,
    dollar quotes and comments. On Citus a multi-statement query string cannot ALTER a
    distributed table (Citus sends such a command to the shards as a prepared statement,
    which holds one command only), so there every template runs one statement at a time.
    Strings are standard ones (a backslash is an ordinary character): the templates write no
    E'' strings."""
    out: list[str] = []
    start = i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif ch in ("'", '"'):
            i += 1
            while i < n:
                if text[i] == ch and text.startswith(ch * 2, i):
                    i += 2
                elif text[i] == ch:
                    i += 1
                    break
                else:
                    i += 1
        elif ch == "$" and (m := _DOLLAR.match(text, i)) and not _in_word(text, i):
            end = text.find(m.group(0), m.end())
            i = n if end < 0 else end + len(m.group(0))
        elif ch == ";":
            out.append(text[start:i])
            i += 1
            start = i
        else:
            i += 1
    out.append(text[start:])
    return [s.strip() for s in out if _has_code(s)]


_DOLLAR = re.compile(r"\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$")


def _in_word(text: str, i: int) -> bool:
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")


def code(statement: str) -> str:
    """A statement without its leading comments."""
    rest = statement
    while True:
        rest = rest.strip()
        if rest.startswith("--"):
            rest = rest.split("\n", 1)[1] if "\n" in rest else ""
        elif rest.startswith("/*") and "*/" in rest:
            rest = rest.split("*/", 1)[1]
        else:
            return rest


def _has_code(statement: str) -> bool:
    return bool(code(statement))


def execute(conn: psycopg.Connection, text: str, params=None, *, on_citus: bool) -> None:
    """Run a rendered template: whole, or on Citus one statement at a time."""
    if params or not on_citus:
        conn.execute(text, params or None)
        return
    for statement in statements(text):
        conn.execute(statement)
