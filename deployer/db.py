"""The one boundary where psycopg meets the deployer: connections and error translation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from deployer.errors import ConnectionFailed, DatabaseError

CONNECT_TIMEOUT_S = 5


def redact(dsn: str) -> str:
    """A DSN with its password hidden, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparsable DSN>"
    if "password" in info:
        info["password"] = "***"
    return psycopg.conninfo.make_conninfo(**info)


def connect(
    dsn: str,
    *,
    autocommit: bool = True,
    notice: Callable[[psycopg.errors.Diagnostic], None] | None = None,
    application_name: str = "deployer",
) -> psycopg.Connection[dict[str, Any]]:
    """Open a connection or raise ConnectionFailed with one readable line."""
    try:
        conn = psycopg.connect(
            dsn,
            autocommit=autocommit,
            row_factory=dict_row,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name=application_name,
        )
    except psycopg.ProgrammingError as exc:
        raise ConnectionFailed(f"invalid connection string: {str(exc).splitlines()[0]}") from None
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "no answer"
        raise ConnectionFailed(f"cannot connect to {redact(dsn)}: {first}") from None
    if notice is not None:
        conn.add_notice_handler(notice)
    return conn


def translate(exc: psycopg.Error) -> DatabaseError:
    """A psycopg error as a DatabaseError that keeps SQLSTATE and constraint name."""
    diag = exc.diag
    message = (diag.message_primary or str(exc)).strip().splitlines()[0]
    if diag.constraint_name:
        message += f" (constraint {diag.constraint_name})"
    if diag.sqlstate == "42501":
        message += ": this role lacks the right (the job set's roles are in [roles] of sql/jobs.toml)"
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
