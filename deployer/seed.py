"""Demo data: render sql/seed/seed.sql and run it in one transaction.

The data is generated set-based inside the database (see the template's header for its
shape) and is deterministic: the same (users, seed, now) gives the same rows, UUIDs included.
It satisfies conservation (docs/rules.md: Money) for every user. SnapBet's triggers (sql/app/95_triggers.sql)
are paused during the load and the seed writes what they would have written instead.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from deployer import citus
from deployer.errors import UsageError
from deployer.render import render

TEMPLATE = "seed/seed.sql"
# SnapBet's system user, which the reference schema creates (sql/app/20_users.sql): the
# sender of system messages, not one of the app's users.
SYSTEM_USER_ID = "00000000-0000-0000-0000-000000000000"

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def seed(
    conn: psycopg.Connection,
    *,
    users: int,
    seed: int,
    now: datetime | None = None,
    variables: dict[str, Any],
) -> dict[str, int]:
    """Fill an empty app schema with demo data for `users` users; return rows added per table.

    `variables` must hold app_schema and storage_schema; an optional `timezone` (default UTC)
    says where weeks start on Monday 00:00. `now` is the moment all the data is relative to
    (a naive datetime is taken as UTC); None means the database's now(). Refuses with
    UsageError when users < 1 or when the app schema already holds users, so re-running is
    safe (SnapBet's system user does not count). Table keys are the app's table names plus
    "storage.objects".

    The seed runs in its own transaction (a savepoint if `conn` is already in one, whose
    SET LOCAL settings then last until that transaction ends). psycopg errors propagate.
    """
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise UsageError(f"--users must be a whole number of at least 1, not {users!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not _INT64_MIN <= seed <= _INT64_MAX:
        raise UsageError(f"--seed must be a 64-bit whole number, not {seed!r}")
    rendered = render(TEMPLATE, {**variables, "users": users, "seed": seed, "now": _iso(now)})
    users_table = sql.Identifier(variables["app_schema"], "users")
    with conn.transaction(), conn.cursor(row_factory=tuple_row) as cur:
        on_citus = citus.role(conn) == "coordinator"
        if on_citus:
            # SnapBet's triggers are paused on the shards too; one connection a node, no
            # local execution: the seed writes tables with foreign keys to reference tables
            # it has read in the same transaction.
            cur.execute("SET LOCAL citus.enable_unsafe_triggers = on")
            cur.execute("SET LOCAL citus.multi_shard_modify_mode = 'sequential'")
        # Serialise concurrent seeds: the second one waits, then sees the first one's users.
        cur.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(users_table))
        existing = app_users(conn, variables["app_schema"])
        if existing:
            raise UsageError(
                f"the database already holds {existing} users; seed works on an empty app schema"
            )
        deferred: list[str] = []
        if on_citus:  # one statement at a time, as Citus needs for ALTER TABLE (deployer/citus.py)
            for statement in citus.statements(rendered.sql):
                if re.match(r'ANALYZE\s+"', citus.code(statement)):  # an app table, not the seed's own
                    deferred.append(statement)  # Citus analyzes the shards in parallel: after the commit
                else:
                    cur.execute(statement)
        else:
            cur.execute(rendered.sql)
            while cur.nextset():  # the script's last statement reports the counts
                pass
        counts = {str(table): int(added) for table, added in cur.fetchall()}
    for statement in deferred:
        conn.execute(statement)
    return counts


def app_users(conn: psycopg.Connection, app_schema: str) -> int:
    """How many users the app schema holds, SnapBet's system user aside."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE id <> %s").format(sql.Identifier(app_schema, "users")),
            (SYSTEM_USER_ID,),
        ).fetchone()
    return int(row[0]) if row else 0


def _iso(now: datetime | None) -> str | None:
    """ISO-8601 text for the template; a naive datetime is UTC."""
    if now is None:
        return None
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.isoformat()
