"""The pages' database sessions: a few connections, shared, never more than `size` at once.

Each connection is data.open_connection's: read-only, as the monitor role where there is
one, application_name "deployer dashboard". A page waits up to `wait` seconds for one and
otherwise answers 503 (Busy): a crowd of readers queues here instead of on the database,
whose connection slots SnapBet itself needs. A connection idle for IDLE_S is closed, and
one older than MAX_AGE_S is not reused (so a monitor role created since is taken on). A
read holds its locks for STATEMENT_TIMEOUT at most and waits LOCK_TIMEOUT at most for one:
a page never keeps a deploy's DDL, and the app queued behind it, waiting.

The pages' reads (status.py, data.py) are synchronous: they run in a worker thread, and
only a holder of one of the `size` permits takes a connection, so the open connections
(idle plus in use) never outnumber the permits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import psycopg

from deployer.dashboard import data
from deployer.db import translated
from deployer.errors import DeployerError, UsageError
from deployer.manifest import Manifest

T = TypeVar("T")
SIZE = 3  # connections the pages share; the live listener is one more (live.Hub)
WAIT_S = 3.0  # how long a page waits for one before answering 503
IDLE_S = 60.0
MAX_AGE_S = 600.0
STATEMENT_TIMEOUT = "15s"
LOCK_TIMEOUT = "5s"


class Busy(DeployerError):
    """Every connection stayed in use for as long as a page waits for one."""


@dataclass
class _Held:
    conn: Any
    role: str
    opened: float = field(default_factory=time.monotonic)
    used: float = field(default_factory=time.monotonic)

    def close(self) -> None:
        try:
            self.conn.close()
        except psycopg.Error:
            pass


class Pool:
    """At most `size` read-only connections, handed to one page read at a time each."""

    def __init__(self, dsn: str, manifest: Manifest, size: int = SIZE, wait: float = WAIT_S):
        if size < 1:
            raise UsageError(f"the dashboard needs at least 1 database connection, not {size}")
        self.dsn, self.manifest, self.size, self.wait = dsn, manifest, size, wait
        self._permits = anyio.Semaphore(size)
        self._lock = threading.Lock()
        self._idle: list[_Held] = []
        self._closed = False

    async def read(self, fn: Callable[[data.Session], T]) -> T:
        """fn(session) in a worker thread, over one of the pool's connections; Busy when none
        came free within `wait` seconds."""
        with anyio.move_on_after(self.wait) as waited:
            await self._permits.acquire()
        if not waited.cancelled_caught:
            try:
                return await anyio.to_thread.run_sync(self._read, fn)
            finally:
                self._permits.release()
        raise Busy(f"all {self.size} of the dashboard's database connections stayed busy for {self.wait:g} s"
                   " (it opens no more, to leave the database's to the app): try again in a moment")

    def _read(self, fn: Callable[[data.Session], T]) -> T:
        held, reused = self._take()
        try:
            return self._run(held, fn)
        except DeployerError:
            if not (reused and held.conn.broken):
                raise
        # An idle connection the server dropped meanwhile (a restart, a terminated backend):
        # one try on a new one. The reads only read, so doing one again is harmless.
        held, _ = self._take(fresh=True)
        return self._run(held, fn)

    def _run(self, held: _Held, fn: Callable[[data.Session], T]) -> T:
        try:
            with data.reading(held.conn, self.manifest, held.role) as s:
                return fn(s)
        finally:
            self._give_back(held)

    def _take(self, fresh: bool = False) -> tuple[_Held, bool]:
        """An idle connection (the most recently used), or a new one; whether it was reused."""
        stale: list[_Held] = []
        held = None
        now = time.monotonic()
        with self._lock:
            while self._idle and not fresh:
                candidate = self._idle.pop()
                if now - candidate.used > IDLE_S or now - candidate.opened > MAX_AGE_S:
                    stale.append(candidate)
                else:
                    held = candidate
                    break
        for s in stale:
            s.close()
        if held is not None:
            return held, True
        conn, role = data.open_connection(self.dsn, self.manifest, data.APPLICATION_NAME)
        try:
            with translated():
                conn.execute("SELECT set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false)",
                             (STATEMENT_TIMEOUT, LOCK_TIMEOUT))
        except BaseException:
            conn.close()
            raise
        return _Held(conn, role), False

    def _give_back(self, held: _Held) -> None:
        conn = held.conn
        healthy = (not conn.closed and not conn.broken
                   and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)
        held.used = time.monotonic()
        with self._lock:
            if healthy and not self._closed and held.used - held.opened < MAX_AGE_S:
                self._idle.append(held)
                return
        held.close()

    def reap(self) -> None:
        """Close the connections idle for IDLE_S or more."""
        now = time.monotonic()
        with self._lock:
            stale = [h for h in self._idle if now - h.used >= IDLE_S]
            self._idle = [h for h in self._idle if now - h.used < IDLE_S]
        for held in stale:
            held.close()

    def close(self) -> None:
        """Close the idle connections; one in use is closed when its read ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for held in idle:
            held.close()
