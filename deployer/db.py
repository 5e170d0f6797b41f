"""The one boundary where psycopg meets the deployer: connections and error translation."""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg.sql
from psycopg.rows import dict_row

from deployer.errors import ConfigError, ConnectionFailed, DatabaseError

CONNECT_TIMEOUT_S = 5


URL_RE = re.compile(r"^postgres(ql)?://", re.IGNORECASE)


def redact(dsn: str) -> str:
    """A DSN with its password hidden, for messages, in the form it was given: a URL stays a
    URL (its password, in the user part or ?password=, as ***), keywords stay keywords."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable DSN>"
    if not URL_RE.match(dsn.strip()):
        if "password" in info:
            info["password"] = "***"
        return psycopg.conninfo.make_conninfo(**info)
    parts = urllib.parse.urlsplit(dsn.strip())
    user, at, hosts = parts.netloc.rpartition("@")
    if at and ":" in user:
        user = user.split(":", 1)[0] + ":***"
    query = "&".join(f"{k}=***" if k == "password" else f"{k}={v}" if v or "=" in pair else k
                     for pair in parts.query.split("&") if pair
                     for k, _, v in [pair.partition("=")])
    return (f"{parts.scheme}://{user}{at}{hosts}{parts.path}" + (f"?{query}" if query else "")
            + (f"#{parts.fragment}" if parts.fragment else ""))


def describe(dsn: str) -> str:
    """The server a DSN names, for a message: redacted, and said so when it names no host
    (libpq then takes $PGHOST, else the local socket)."""
    shown = redact(dsn)
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return shown
    if not (info.get("host") or info.get("hostaddr") or os.environ.get("PGHOST")):
        port = info.get("port") or os.environ.get("PGPORT") or "5432"
        shown = f"{shown or repr(dsn)} (no host given: the local socket, port {port})"
    return shown


def _keywords(dsn: str, autocommit: bool, application_name: str, read_only: bool) -> dict[str, Any]:
    """What every connection is opened with. A read-only session is asked for at startup,
    beside whatever `options` the DSN itself carries."""
    keywords: dict[str, Any] = {"autocommit": autocommit, "row_factory": dict_row,
                                "connect_timeout": CONNECT_TIMEOUT_S, "application_name": application_name}
    if read_only:
        given = psycopg.conninfo.conninfo_to_dict(dsn).get("options") or ""
        keywords["options"] = f"{given} -c default_transaction_read_only=on".strip()
    return keywords


def _failed(dsn: str, exc: psycopg.Error) -> ConnectionFailed:
    if isinstance(exc, psycopg.ProgrammingError):
        reason = f"invalid connection string: {str(exc).splitlines()[0]}"
        return ConnectionFailed(reason, reason)
    first = str(exc).strip().splitlines()[-1].strip() if str(exc).strip() else "no answer"
    return ConnectionFailed(f"cannot connect to {describe(dsn)}: {first}", first)


def connect(
    dsn: str,
    *,
    autocommit: bool = True,
    notice: Callable[[psycopg.errors.Diagnostic], None] | None = None,
    application_name: str = "deployer",
    read_only: bool = False,
) -> psycopg.Connection[dict[str, Any]]:
    """Open a connection or raise ConnectionFailed with one readable line. `read_only`:
    every transaction of the session is read-only (default_transaction_read_only)."""
    try:
        conn = psycopg.connect(dsn, **_keywords(dsn, autocommit, application_name, read_only))
    except (psycopg.ProgrammingError, psycopg.OperationalError) as exc:
        raise _failed(dsn, exc) from None
    if notice is not None:
        conn.add_notice_handler(notice)
    return conn


async def connect_async(
    dsn: str, *, application_name: str = "deployer", read_only: bool = False
) -> psycopg.AsyncConnection[dict[str, Any]]:
    """connect() for asyncio (an autocommit session): LISTEN inside a web server."""
    try:
        return await psycopg.AsyncConnection.connect(dsn, **_keywords(dsn, True, application_name, read_only))
    except (psycopg.ProgrammingError, psycopg.OperationalError) as exc:
        raise _failed(dsn, exc) from None


# Whether to take on `role`: it exists, the session's user is a member, and is not it already.
ROLE_TO_ASSUME = """
SELECT r.rolname IS NOT NULL AND r.rolname <> current_user
       AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER') AS assume
  FROM (SELECT 1) AS one
  LEFT JOIN pg_catalog.pg_roles AS r ON r.rolname = %s
"""


def assume_role(conn: psycopg.Connection, role: str) -> bool:
    """SET ROLE `role` when the session's user may (see ROLE_TO_ASSUME); whether it did."""
    with translated():
        if not conn.execute(ROLE_TO_ASSUME, (role,)).fetchone()["assume"]:
            return False
        conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
    return True


async def assume_role_async(conn: psycopg.AsyncConnection, role: str) -> bool:
    """assume_role() for an asyncio connection."""
    with translated():
        row = await (await conn.execute(ROLE_TO_ASSUME, (role,))).fetchone()
        if not row["assume"]:
            return False
        await conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
    return True


def translate(exc: psycopg.Error) -> DatabaseError:
    """A psycopg error as a DatabaseError that keeps SQLSTATE and constraint name."""
    diag = exc.diag
    message = (diag.message_primary or str(exc)).strip().splitlines()[0]
    if diag.constraint_name:
        message += f" (constraint {diag.constraint_name})"
    if diag.sqlstate == "42501":  # the server's own hint says how to grant it, where it has one
        message += (f": {diag.message_hint}" if diag.message_hint
                    else ": this role lacks the right (the job set's roles are in [roles] of sql/jobs.toml)")
    if diag.sqlstate:
        message += f" [SQLSTATE {diag.sqlstate}]"
    return DatabaseError(message, sqlstate=diag.sqlstate, constraint=diag.constraint_name)


@contextmanager
def translated() -> Iterator[None]:
    """Run a block with psycopg errors turned into DatabaseError."""
    try:
        yield
    except psycopg.OperationalError as exc:
        if exc.sqlstate is None:  # the connection itself broke
            raise ConnectionFailed(f"lost the database connection: {str(exc).strip().splitlines()[0]}") from None
        raise translate(exc) from None
    except psycopg.Error as exc:
        raise translate(exc) from None


_LOOKUPS = {"table": "to_regclass", "function": "to_regprocedure", "schema": "to_regnamespace"}


def exists(conn: psycopg.Connection, kind: str, name: str) -> bool:
    """Whether a table, function (with its argument types) or schema of that (quoted) name exists."""
    row = conn.execute(f"SELECT {_LOOKUPS[kind]}(%s) IS NOT NULL AS ok", (name,)).fetchone()
    return bool(row["ok"] if isinstance(row, dict) else row[0])


def dsn_for_database(dsn: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**info)


# Supabase's transaction pooler (Supavisor, and PgBouncer in transaction mode, by custom on
# this port) hands each transaction to whichever server connection is free. A session
# advisory lock (the deploy's index builds) would be held by a connection the deployer no
# longer talks to, and LISTEN would listen on one it never reads from.
TRANSACTION_POOLER_PORT = "6543"


def require_session(dsn: str, command: str) -> str:
    """`dsn`, unless it names a transaction pooler, which `command` cannot work through: then
    a ConfigError saying which connection string to use instead."""
    try:
        port = psycopg.conninfo.conninfo_to_dict(dsn).get("port") or os.environ.get("PGPORT")
    except psycopg.ProgrammingError:
        return dsn  # connect() says what is wrong with it
    if str(port) == TRANSACTION_POOLER_PORT:
        raise ConfigError(f"port {TRANSACTION_POOLER_PORT} is Supabase's transaction pooler, through which {command} "
                          "cannot hold a session (advisory locks, LISTEN): use the direct connection or the session "
                          "pooler (port 5432)")
    return dsn
