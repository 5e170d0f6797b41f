"""The Live page's server-sent events: one LISTEN connection per dashboard, however many
pages watch.

Hub holds a single listener task. It opens its connection (read-only, as the monitor role,
application_name "deployer dashboard live") when the first stream opens and closes it
LINGER_S after the last one ends; it parses each announcement once and puts the event,
ready to send, on the queue of every stream that wants it. A lost connection (a database
restart, a terminated backend) is reopened with a growing pause (BACKOFF_MIN_S doubling up
to BACKOFF_MAX_S); meanwhile the streams stay open, told `paused`, then `ready` again.

Bounds: at most `max_streams` streams at once (the next is refused: TooManyStreams, a 503),
and QUEUE_SIZE events waiting per stream. A stream whose client reads slower than runs are
announced is disconnected, not dropped from: its queue emptied, it ends with a `behind`
event. Silently skipping events would leave its page showing runs that never end; ended,
the browser's EventSource reconnects by itself and starts afresh.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio
import psycopg
import psycopg.conninfo

from deployer import watch
from deployer.dashboard import data
from deployer.db import assume_role_async, connect_async, translated
from deployer.errors import ConnectionFailed, DeployerError, UsageError
from deployer.manifest import Manifest

APPLICATION_NAME = f"{data.APPLICATION_NAME} live"
MAX_STREAMS = 50
QUEUE_SIZE = 200  # events waiting for one stream's client before it is disconnected
KEEPALIVE_S = 5.0  # an SSE comment this often: proxies keep the stream open, a gone client is noticed
READY_WAIT_S = 8.0  # how long a new stream waits for the listener to (re)connect before a 503
LINGER_S = 1.0  # the listener outlives the last stream this long (a page reload keeps it)
POLL_S = 0.5  # how often the listener looks up from the socket (streams gone, shutdown)
BACKOFF_MIN_S = 1.0  # also the least time between two attempts, however many new streams wait
BACKOFF_MAX_S = 15.0
# The server gone without a word (a cable, a firewall): libpq's TCP keepalives notice.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}

READY = "event: ready\ndata: {}\n\n"
log = logging.getLogger("uvicorn.error")


class TooManyStreams(DeployerError):
    """The cap on open Live streams is reached."""


@dataclass(eq=False)
class Stream:
    """One open /live/events response: the events waiting for it."""
    job: str | None
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    paused: bool = False  # told the listener is down, not yet that it is back
    behind: bool = False


def _event(name: str, payload: object) -> str:
    return f"event: {name}\ndata: {json.dumps(payload, default=str)}\n\n"


def _reason(exc: BaseException) -> str:
    """Why the listener is down, in words a page may show: never the connection string."""
    if isinstance(exc, ConnectionFailed):
        return exc.reason
    return (str(exc).strip().splitlines() or ["no answer"])[0].strip()


class Hub:
    """The one listener, fanned out to every open stream."""

    def __init__(self, dsn: str, manifest: Manifest, max_streams: int = MAX_STREAMS):
        if max_streams < 1:
            raise UsageError(f"the most live streams must be at least 1, not {max_streams}")
        try:
            self.conninfo = psycopg.conninfo.make_conninfo(dsn, **KEEPALIVES)
        except psycopg.ProgrammingError:
            self.conninfo = dsn  # connect_async says what is wrong with it
        self.manifest, self.max_streams = manifest, max_streams
        self.streams: set[Stream] = set()
        self.listening = False
        self.error: str | None = None  # why the last attempt to listen failed
        self._task: asyncio.Task | None = None
        self._changed = asyncio.Event()  # set on each up or down of the listener, then replaced
        self._kick = asyncio.Event()  # a new stream waits: retry now rather than after the pause

    # -- streams ---------------------------------------------------------------------------

    async def open(self, job: str | None) -> Stream:
        """A new stream once the listener listens; TooManyStreams at the cap, ConnectionFailed
        when the listener cannot listen (the database unreachable) within READY_WAIT_S."""
        if len(self.streams) >= self.max_streams:
            raise TooManyStreams(f"{len(self.streams)} live streams are open, the most this dashboard serves at once"
                                 " (each page's stream shares one database connection, but every one costs memory"
                                 " and a socket): close a Live page or try again later")
        stream = Stream(job)
        self.streams.add(stream)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="dashboard live listener")
        try:
            with anyio.fail_after(READY_WAIT_S):
                while not self.listening:
                    self._kick.set()
                    changed = self._changed
                    await changed.wait()
                    if not self.listening and self.error is not None:
                        raise ConnectionFailed(self.error)
        except TimeoutError:
            self.streams.discard(stream)
            raise ConnectionFailed(self.error or f"the listener did not start within {READY_WAIT_S:g} s") from None
        except BaseException:
            self.streams.discard(stream)
            raise
        return stream

    async def events(self, stream: Stream) -> AsyncIterator[str]:
        """The SSE text of a stream: `ready`, then each `run` (the event's fields and watch's
        line for a person), `paused`/`ready` as the listener goes and comes back, a comment
        every KEEPALIVE_S seconds; a stream too far behind ends with `behind`."""
        try:
            yield "retry: 2000\n" + READY
            while True:
                message = None
                with anyio.move_on_after(KEEPALIVE_S):
                    message = await stream.queue.get()
                if message is None:
                    if stream.behind:
                        yield _event("behind", {"queued": QUEUE_SIZE})
                        return
                    yield ": keep-alive\n\n"
                    continue
                yield message
        finally:
            self.streams.discard(stream)

    def _put(self, stream: Stream, message: str) -> None:
        if stream.behind:
            return
        try:
            stream.queue.put_nowait(message)
        except asyncio.QueueFull:
            # Disconnect, not drop (see the module's docstring): free what it held, wake it
            # to end with `behind`.
            self.streams.discard(stream)
            stream.behind = True
            while not stream.queue.empty():
                stream.queue.get_nowait()
            stream.queue.put_nowait(None)
            log.warning("live: a client fell %d events behind; its stream is ended, it reconnects", QUEUE_SIZE)

    def _fan_out(self, payload: str) -> None:
        event = watch.parse(payload)
        if event is None:
            return
        event["line"] = watch.describe(event)
        message = _event("run", event)
        for stream in list(self.streams):
            if stream.job in (None, event.get("job")):
                self._put(stream, message)

    def _announce(self, up: bool) -> None:
        self.listening = up
        if up:
            self.error = None
        for stream in list(self.streams):
            if up and stream.paused:
                stream.paused = False
                self._put(stream, READY)
            elif not up and not stream.paused:
                stream.paused = True
                self._put(stream, _event("paused", {"reason": self.error}))
        self._changed.set()
        self._changed = asyncio.Event()

    # -- the listener ----------------------------------------------------------------------

    async def _listen(self) -> None:
        """Listen while any stream is open (and LINGER_S after), reconnecting with backoff."""
        loop = asyncio.get_running_loop()
        backoff = BACKOFF_MIN_S
        while self.streams:
            tried = loop.time()
            conn, was_up = None, False
            try:
                conn = await connect_async(self.conninfo, read_only=True, application_name=APPLICATION_NAME)
                await assume_role_async(conn, data.monitor_role(self.manifest))
                with translated():
                    await conn.execute(watch.listen_sql(self.manifest))
                if self.error is not None:
                    log.info("live: listening again")
                self._announce(True)
                was_up, backoff = True, BACKOFF_MIN_S
                await self._pump(conn)
            except (psycopg.Error, DeployerError, OSError) as exc:
                self.error = _reason(exc)
                log.warning("live: %s: %s", "lost the database connection" if was_up else "cannot listen", self.error)
                self._announce(False)
            finally:
                self.listening = False
                if conn is not None:
                    try:
                        await conn.close()
                    except psycopg.Error:
                        pass
            if not self.streams:
                break
            self._kick.clear()
            pause = max(backoff - (loop.time() - tried), 0.0)
            backoff = min(backoff * 2, BACKOFF_MAX_S)
            try:  # a new stream waiting cuts the pause short, to BACKOFF_MIN_S at least
                await asyncio.wait_for(self._kick.wait(), pause)
                await asyncio.sleep(max(BACKOFF_MIN_S - (loop.time() - tried), 0.0))
            except TimeoutError:
                pass
        self._announce(False)

    async def _pump(self, conn: psycopg.AsyncConnection) -> None:
        """Fan each notification out until no stream was open for LINGER_S."""
        loop = asyncio.get_running_loop()
        alone_since = None
        while True:
            async for note in conn.notifies(timeout=POLL_S):
                self._fan_out(note.payload)
            if self.streams:
                alone_since = None
            elif alone_since is None:
                alone_since = loop.time()
            elif loop.time() - alone_since >= LINGER_S:
                return

    async def close(self) -> None:
        """Stop the listener (the server shuts down)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
