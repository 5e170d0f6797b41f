"""`deployer watch`: run announcements as they happen.

jobs.run_job sends one notification per run start, batch and end on the manifest's
notify_channel (a JSON payload each; docs/rules.md: The runner). Whoever runs the job, pg_cron or a person,
a listener sees it: notifications are delivered when their transaction commits, so a batch
is announced exactly when its work becomes visible.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from deployer.db import connect, translated
from deployer.manifest import Manifest
from deployer.render import quote_ident


def events(dsn: str, manifest: Manifest, job: str | None = None, *, timeout: float | None = None,
           count: int | None = None, ready: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]:
    """Yield each announcement (of `job`, or of every job) until `count` were seen or
    `timeout` seconds passed; forever when neither is given."""
    if job is not None:
        manifest.job(job)
    conn = connect(dsn, application_name="deployer watch")
    try:
        with translated():
            conn.execute(listen_sql(manifest))
        if ready is not None:
            ready()
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = 0
        while count is None or seen < count:
            wait = 1.0 if deadline is None else deadline - time.monotonic()
            if wait <= 0:
                return
            with translated():
                batch = list(conn.notifies(timeout=min(wait, 1.0)))
            for note in batch:
                event = parse(note.payload, job)
                if event is None:
                    continue
                yield event
                seen += 1
                if count is not None and seen >= count:
                    return
    finally:
        conn.close()


def listen_sql(manifest: Manifest) -> str:
    return f"LISTEN {quote_ident(manifest.settings['notify_channel'])}"


def parse(payload: str, job: str | None = None) -> dict[str, Any] | None:
    """An announcement from a notification's payload; None when it is not one of ours
    (someone else's NOTIFY on the channel) or is about another job than `job`."""
    try:
        event = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(event, dict) or (job is not None and event.get("job") != job):
        return None
    return event


def describe(event: dict[str, Any]) -> str:
    """One line for a person."""
    at = str(event.get("at", ""))[11:19]
    head = f"{at} {event.get('job')} #{event.get('execution_id')}"
    kind = event.get("event")
    if kind == "start":
        return f"{head} started by {event.get('executed_by')} (now={event.get('now')})"
    if kind == "batch":
        return (f"{head} batch {event.get('batch')}: {event.get('affected')} affected of {event.get('size')} asked"
                f" in {event.get('ms')} ms, {event.get('total')} in total")
    if kind == "end":
        batches = event.get("batches")
        line = (f"{head} {event.get('status')}: {event.get('affected')} affected in {batches} "
                f"{'batch' if batches == 1 else 'batches'}, {event.get('duration_ms')} ms")
        if event.get("status") == "failed":
            line += f"; error [SQLSTATE {event.get('sqlstate')}]: {event.get('error')}"
        return line
    if kind == "skipped":
        return f"{head} skipped: {event.get('message')}"
    return f"{head} {kind}"
