"""`deployer media purge`: delete the files jobs.cleanup_media queued (docs/rules.md: The jobs).

For each pending row of jobs.media_purge_queue, in queue order:

1. ask the database again whether a URL column points to the object (a row may have been
   written since the job queued it); if one does, the row is marked done, `referenced
   again`, and nothing is deleted;
2. delete the file from the storage backend (a file already gone is not an error);
3. delete the object's storage.objects row and mark the queue row done, in one transaction.

A crash after 2 leaves the row pending with its file gone: the next purge finds the file
missing and finishes 3. Nothing ever points at a deleted file without its queue row saying
so. A name the backend refuses (one that would escape the root, a file it cannot delete) is
reported, recorded in the queue row's `refused`, and left pending. A dry run makes the same
checks and deletes nothing, so it reports what the real run will do.

Backends implement `Storage`; `Directory` (files under ROOT/<bucket>/<name>) is the one
built here. An S3-compatible bucket would implement the same three methods.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psycopg

from deployer.db import connect, translated
from deployer.errors import UsageError
from deployer.manifest import Manifest
from deployer.render import quote_ident


class Refused(Exception):
    """A name the backend will not touch; the message says why."""


class Storage(Protocol):
    def locate(self, bucket: str, name: str) -> str:
        """Where bucket/name lives, for people; raises Refused for a name it will not touch."""

    def present(self, bucket: str, name: str) -> bool:
        """What delete would find, without deleting (the dry run): True if the file is there and
        deletable, False if already gone. Raises Refused where delete would."""

    def delete(self, bucket: str, name: str) -> bool:
        """Delete bucket/name: True if it was there, False if already gone. Raises Refused."""


@dataclass(frozen=True)
class Directory:
    """Files under root/<bucket>/<name>. A name that is absolute, has a `..` part, or leads
    (through a symlink anywhere on its way) out of the root is refused."""

    root: Path

    def _path(self, bucket: str, name: str) -> Path:
        for part, what in ((bucket, "bucket"), (name, "name")):
            if not part or part.startswith("/") or "\x00" in part:
                raise Refused(f"{what} {part!r} is empty, absolute or has a NUL byte")
            if ".." in part.split("/"):
                raise Refused(f"{what} {part!r} has a '..' part")
        root = self.root.resolve()
        path = root / bucket / name
        # Resolved without following the file itself when it is a symlink: a link in the
        # root may be deleted only if it also points inside the root.
        target = Path(os.path.realpath(path))
        if root != target and root not in target.parents:
            raise Refused(f"{bucket}/{name} leads out of the root (to {target})")
        return path

    def locate(self, bucket: str, name: str) -> str:
        return str(self._path(bucket, name))

    def present(self, bucket: str, name: str) -> bool:
        path = self._path(bucket, name)
        if not path.exists() and not path.is_symlink():
            return False
        if path.is_dir() and not path.is_symlink():
            raise Refused(f"cannot delete {path}: Is a directory")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise Refused(f"cannot delete {path}: Permission denied")
        return True

    def delete(self, bucket: str, name: str) -> bool:
        path = self._path(bucket, name)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:  # a directory, no right to: left queued, as a refusal
            raise Refused(f"cannot delete {path}: {exc.strerror or exc}") from None
        return True


@dataclass
class Item:
    id: int
    object_id: str
    bucket: str
    name: str
    outcome: str = ""  # deleted, already gone, referenced again, refused, would delete
    where: str = ""
    why: str = ""


@dataclass
class Report:
    dry_run: bool
    items: list[Item] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for i in self.items if i.outcome == outcome)

    def as_json(self) -> dict:
        outcomes = ("would delete", "already gone") if self.dry_run else ("deleted", "already gone")
        return {
            "dry_run": self.dry_run,
            "counts": {o: self.count(o) for o in outcomes + ("referenced again", "refused")},
            "items": [{"queue_id": i.id, "object_id": i.object_id, "bucket": i.bucket, "name": i.name,
                       "outcome": i.outcome, "path": i.where, "why": i.why or None} for i in self.items],
        }


# Why each outcome, (after a real run, in a dry run); a refusal says its own reason.
WHY = {
    "deleted": ("no row points to it", None),
    "would delete": (None, "no row points to it"),
    "already gone": ("no file there; its storage.objects row was deleted",
                     "no file there; a run deletes only its storage.objects row"),
    "referenced again": ("a row points to it again: kept, and taken off the queue",
                         "a row points to it again: a run keeps it and takes it off the queue"),
}


def _pending(conn: psycopg.Connection, js: str) -> list[Item]:
    rows = conn.execute(
        f"SELECT id, object_id::text, bucket_id, name FROM {quote_ident(js)}.media_purge_queue"
        " WHERE done_at IS NULL ORDER BY id").fetchall()
    return [Item(r["id"], r["object_id"], r["bucket_id"], r["name"]) for r in rows]


def purge(dsn: str, manifest: Manifest, storage: Storage, *, dry_run: bool = False,
          progress: Callable[[Iterator[Item], int], Iterator[Item]] | None = None,
          after_file: Callable[[Item], None] | None = None) -> Report:
    """Purge the queue through `storage`; `progress` wraps the iteration (a progress bar);
    `after_file` is called between a file's deletion and its row's (tests simulate a crash
    there)."""
    js = manifest.settings["jobs_schema"]
    objects = quote_ident((manifest.settings["storage_schema"], "objects"))
    queue = f"{quote_ident(js)}.media_purge_queue"
    report = Report(dry_run)
    with connect(dsn) as conn, translated():
        if conn.execute("SELECT to_regclass(%s) AS t", (f"{quote_ident(js)}.media_purge_queue",)).fetchone()["t"] is None:
            raise UsageError("there is no media purge queue here: deploy the job set (with cleanup_media) first")
        items = _pending(conn, js)
        for item in (progress(iter(items), len(items)) if progress else items):
            report.items.append(item)
            try:
                item.where = storage.locate(item.bucket, item.name)
                referenced = conn.execute(f"SELECT {quote_ident(js)}.media_referenced(%s, %s) AS r",
                                          (item.bucket, item.name)).fetchone()["r"]
                if referenced:
                    item.outcome = "referenced again"
                    item.why = WHY["referenced again"][dry_run]
                    if not dry_run:
                        conn.execute(f"UPDATE {queue} SET done_at = now(), outcome = %s, refused = NULL"
                                     " WHERE id = %s", (item.outcome, item.id))
                    continue
                if dry_run:  # what the real run would find: the same checks, nothing deleted
                    item.outcome = "would delete" if storage.present(item.bucket, item.name) else "already gone"
                    item.why = WHY[item.outcome][dry_run]
                    continue
                item.outcome = "deleted" if storage.delete(item.bucket, item.name) else "already gone"
                item.why = WHY[item.outcome][dry_run]
            except Refused as exc:
                item.outcome, item.why = "refused", str(exc)
                if not dry_run:
                    conn.execute(f"UPDATE {queue} SET refused = %s WHERE id = %s", (item.why, item.id))
                continue
            if after_file:
                after_file(item)
            with conn.transaction():
                # Supabase Storage refuses a DELETE of its rows (a trigger, since 2025) unless
                # the transaction says it deleted the file itself, as its own API does, and as
                # this has just done. Elsewhere the setting means nothing.
                conn.execute("SELECT set_config('storage.allow_delete_query', 'true', true)")
                conn.execute(f"DELETE FROM {objects} WHERE id = %s", (item.object_id,))
                conn.execute(f"UPDATE {queue} SET done_at = now(), outcome = %s, refused = NULL WHERE id = %s",
                             (item.outcome, item.id))
    return report


def directory(root: str) -> Directory:
    """The --root directory, which must exist."""
    path = Path(root)
    if not path.is_dir():
        raise UsageError(f"--root {root!r} is not a directory")
    return Directory(path)
