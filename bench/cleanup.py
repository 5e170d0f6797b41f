"""The baselines of cleanup (bench.baselines picks among them), as bench.badges has those of
calculate_badges: the bare statement that makes cleanup's deletions in one go, and the
row-at-a-time client as a cron script would be written, a generator that yields the rows of
each unit of work (a few deletions committed together) before doing it (see
bench.baselines.row_client).

Written from docs/rules.md: The jobs, Boundaries with the manifest's retentions: notifications and finished job
runs older than 30 days, reactions on soft-deleted posts (SnapBet's trigger lowers each
post's reaction_count), group chats without members older than the grace. No pg_cron
history (pg_cron lives in the `postgres` database of the bench cluster: the job counts 0 for
it) and no `running` runs (nothing to mark abandoned). "Older than N" is strict.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import psycopg

# Each phase's rule, in the job's order: the notifications, the finished runs, the reactions
# on soft-deleted posts (`r`, joined to its post `p`), the memberless group chats.
OLD_NOTIFICATIONS = "created_at < %(now)s::timestamptz - %(notifications)s::interval"
OLD_RUNS = "executed_at < %(now)s::timestamptz - %(executions)s::interval AND status <> 'running'"
ON_DELETED_POSTS = "p.id = r.post_id AND p.deleted_at IS NOT NULL"
EMPTY_CHATS = """chat_type = 'group' AND coalesce(created_at, '-infinity') < %(now)s::timestamptz - %(grace)s::interval
   AND NOT EXISTS (SELECT FROM chat_members AS m WHERE m.chat_id = chats.id)"""

# cleanup in one statement: four data-modifying CTEs, every one run whether read or not.
CLEANUP_BARE = f"""
WITH notified AS (
    DELETE FROM notifications WHERE {OLD_NOTIFICATIONS}
), runs AS (
    DELETE FROM jobs.job_executions WHERE {OLD_RUNS}
), reacted AS (
    DELETE FROM reactions AS r USING posts AS p WHERE {ON_DELETED_POSTS}
)
DELETE FROM chats WHERE {EMPTY_CHATS}
"""


def cleanup_params(manifest, now: datetime) -> dict:
    variables = manifest.job("cleanup").vars
    return {"now": now, "notifications": variables["notifications_after"],
            "executions": variables["executions_after"], "grace": variables["empty_chat_grace"]}


def cleanup_bare(manifest, now: datetime) -> tuple[str, dict]:
    return CLEANUP_BARE, cleanup_params(manifest, now)


# The row client: each phase's candidates selected in the job's order, then one DELETE by id
# a row (its rule checked again), a transaction per ROWS_PER_COMMIT rows.
ROWS_PER_COMMIT = 10
PHASES = [
    (f"SELECT id FROM notifications WHERE {OLD_NOTIFICATIONS} ORDER BY created_at, id",
     f"DELETE FROM notifications WHERE id = %(id)s AND {OLD_NOTIFICATIONS}"),
    (f"SELECT id FROM jobs.job_executions WHERE {OLD_RUNS} ORDER BY executed_at, id",
     f"DELETE FROM jobs.job_executions WHERE id = %(id)s AND {OLD_RUNS}"),
    (f"SELECT r.id FROM reactions AS r JOIN posts AS p ON {ON_DELETED_POSTS} ORDER BY p.deleted_at, p.id, r.id",
     f"DELETE FROM reactions AS r USING posts AS p WHERE r.id = %(id)s AND {ON_DELETED_POSTS}"),
    (f"SELECT id FROM chats WHERE {EMPTY_CHATS} ORDER BY id",
     f"DELETE FROM chats WHERE id = %(id)s AND {EMPTY_CHATS}"),
]


def cleanup_client(conn: psycopg.Connection, manifest, now: datetime) -> Iterator[int]:
    """cleanup a row at a time: per phase the candidates, then a DELETE by id a row, committed
    every ROWS_PER_COMMIT rows. Yields each transaction's rows before running it."""
    params = cleanup_params(manifest, now)
    for select, delete in PHASES:
        ids = [row_id for (row_id,) in conn.execute(select, params).fetchall()]
        for first in range(0, len(ids), ROWS_PER_COMMIT):
            chunk = ids[first:first + ROWS_PER_COMMIT]
            yield len(chunk)
            with conn.transaction():
                for row_id in chunk:
                    conn.execute(delete, {**params, "id": row_id})
