"""Watching must never hurt the app (issue 23): however many pages are open, the dashboard
holds at most its pool's connections plus one LISTEN connection.

The server is the real command on a free loopback port with small caps (6 Live streams, 2
page connections, through $DEPLOYER_DASHBOARD_MAX_STREAMS and $DEPLOYER_DASHBOARD_CONNECTIONS);
the clients are bench/dashboard_crowd.py's raw asyncio HTTP/1.1 connections, each with its
own timeout (STEP_S). The pool, the slow-client rule and the database being unreachable are
also checked in-process, without a server.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import anyio
import anyio.from_thread
import psycopg
import pytest

from bench.dashboard_crowd import DASHBOARD_BACKENDS, STEP_S, Sampler, Stream, get_page, open_stream, reached, run_job
from deployer import manifest as manifest_mod
from deployer.dashboard import app, data, live, pool
from deployer.errors import ConnectionFailed, UsageError
from tests.conftest import fresh_database
from tests.support import cli as deployer
from tests.test_dashboard import start_server

MAX_STREAMS = 6
CONNECTIONS = 2
OPENED = MAX_STREAMS + 3


def counts(dsn: str) -> tuple[int, int, int]:
    """The dashboard's connections: all, listening, pages waiting on a lock."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(DASHBOARD_BACKENDS).fetchone()


async def until(check, what: str, timeout: float = STEP_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def crowd_db(admin_dsn: str, template_dsn: str) -> Iterator[str]:
    with fresh_database(admin_dsn) as (_, dsn):
        yield dsn


# -- the crowd against the real server ----------------------------------------------------------------

def test_a_crowd_of_watchers_shares_one_listener_and_a_capped_pool(crowd_db, tmp_path):
    server = start_server(crowd_db, tmp_path / "server.log", env={
        "DEPLOYER_DASHBOARD_MAX_STREAMS": str(MAX_STREAMS), "DEPLOYER_DASHBOARD_CONNECTIONS": str(CONNECTIONS)})
    port = int(server.url.rsplit(":", 1)[1])
    try:
        with Sampler(crowd_db) as sampler:
            asyncio.run(asyncio.wait_for(_crowd(port, crowd_db), 90))
        log = server.stop()
    finally:
        server.stop()
    assert server.proc.returncode == 0, log
    assert sampler.samples > 50
    # (b) Never more than the pool's connections and the one listener, whatever came at once.
    assert sampler.most <= CONNECTIONS + 1, (sampler.most, log)
    assert "live: lost the database connection: " in log and "live: listening again" in log
    assert "Traceback" not in log and crowd_db not in log


async def _crowd(port: int, dsn: str) -> None:
    # (a) More streams than the cap: the excess is refused at once, in words, not left hanging.
    streams = await asyncio.gather(*(open_stream(port) for _ in range(OPENED)))
    try:
        await _watch(port, dsn, [s for s in streams if s.answer.status == 200],
                     [s for s in streams if s.answer.status != 200])
    finally:
        for s in streams:
            s.close()
    # The last stream gone, the listener closes its connection a moment later.
    await until(lambda: counts(dsn)[1] == 0, "the listener outlived its streams", live.LINGER_S + STEP_S)


async def _watch(port: int, dsn: str, open_: list[Stream], refused: list[Stream]) -> None:
    assert len(open_) == MAX_STREAMS and len(refused) == OPENED - MAX_STREAMS
    for s in refused:
        assert s.answer.status == 503 and s.answer.headers["content-type"].startswith("text/plain")
        assert f"{MAX_STREAMS} live streams are open, the most this dashboard serves at once" in s.answer.body
        assert s.answer.headers["retry-after"] == "5"
    for s in open_:
        await s.wait_for(lambda s: s.named("ready"))
    assert counts(dsn)[1] == 1  # one LISTEN connection for every stream

    # Pages at the same time: they queue for the pool's connections.
    pages = await asyncio.gather(*(get_page(port, path) for path in ("/", "/live", "/jobs/rollup_stats") * 4))
    assert [p.status for p in pages] == [200] * len(pages), [p.body[:300] for p in pages if p.status != 200]

    # A page waits a little for a connection, then says why it cannot have one: both held
    # by reads stuck on a lock.
    with psycopg.connect(dsn) as locker:
        locker.execute("LOCK TABLE jobs.job_executions IN ACCESS EXCLUSIVE MODE")
        stuck = [asyncio.create_task(get_page(port, "/live")) for _ in range(CONNECTIONS)]
        await until(lambda: counts(dsn)[2] == CONNECTIONS, "the pages did not wait on the lock")
        started = time.monotonic()
        busy = await get_page(port, "/")
        waited = time.monotonic() - started
        locker.rollback()
    assert busy.status == 503 and busy.headers["retry-after"] == "5", busy.body[:500]
    assert f"all {CONNECTIONS} of the dashboard&#39;s database connections stayed busy for 3 s" in busy.body
    assert pool.WAIT_S - 0.5 < waited < pool.WAIT_S + 3
    assert [(await t).status for t in stuck] == [200] * CONNECTIONS

    # (c) A run announced once reaches every open stream.
    run = run_job(dsn)
    for s in open_:
        await s.wait_for(lambda s: reached(s, run))
        mine = [e for e in s.named("run") if e["execution_id"] == run]
        assert [e["event"] for e in mine] == ["start", "batch", "end"]
        assert mine[-1]["status"] == "succeeded" and f"cleanup_media #{run} succeeded:" in mine[-1]["line"]

    # The listener's connection dropped (as in a database restart): the streams stay open,
    # told paused, then ready once it is back; the next run reaches every one of them.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE datname = current_database() AND application_name = 'deployer dashboard live'")
    for s in open_:
        await s.wait_for(lambda s: len(s.named("ready")) == 2)
        assert [e for e, _ in s.events if e != "run"] == ["ready", "paused", "ready"]
        assert "connection" in s.named("paused")[0]["reason"]  # the driver's or the server's words
    assert counts(dsn)[1] == 1
    again = run_job(dsn)
    for s in open_:
        await s.wait_for(lambda s: reached(s, again))
        assert not s.reader_task.done()  # still the same response


def test_the_caps_must_be_whole_numbers_of_at_least_one(crowd_db, monkeypatch):
    result = deployer("dashboard", "--port", "1", dsn=crowd_db, env={"DEPLOYER_DASHBOARD_MAX_STREAMS": "0"})
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "DEPLOYER_DASHBOARD_MAX_STREAMS must be at least 1" in result.stderr and "not 0" in result.stderr
    monkeypatch.setenv("DEPLOYER_DASHBOARD_CONNECTIONS", "two")
    with pytest.raises(UsageError, match="DEPLOYER_DASHBOARD_CONNECTIONS must be a whole number .*, not 'two'"):
        app.limit(None, app.CONNECTIONS_ENV, pool.SIZE, "the database connections the pages share")
    assert app.limit(4, app.CONNECTIONS_ENV, pool.SIZE, "") == 4  # a value given beats the environment
    monkeypatch.delenv("DEPLOYER_DASHBOARD_CONNECTIONS")
    assert app.limit(None, app.CONNECTIONS_ENV, pool.SIZE, "") == pool.SIZE == 3


# -- in-process: the pool, a client that reads too slowly, the database unreachable --------------------

def test_the_pool_holds_its_size_waits_then_refuses_and_replaces_a_dropped_connection(crowd_db):
    m = manifest_mod.load(environment="test")

    def backends() -> list[int]:
        with psycopg.connect(crowd_db, autocommit=True) as conn:
            return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                               " AND application_name = 'deployer dashboard'")]

    async def settled(expected: list[int]) -> bool:  # a backend leaves pg_stat_activity a moment after its end
        await until(lambda: backends() == expected, f"backends {backends()}, not {expected}")
        return True

    async def main() -> None:
        shared = pool.Pool(crowd_db, m, size=1, wait=0.3)
        try:
            held = anyio.Event()

            def slow(s: data.Session) -> str:
                anyio.from_thread.run_sync(held.set)
                time.sleep(1.0)
                return s.role

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(shared.read, slow)
                await held.wait()
                with pytest.raises(pool.Busy, match="all 1 of the dashboard's database connections stayed busy"):
                    await shared.read(lambda s: s.role)
            assert len(backends()) == 1
            first = await shared.read(lambda s: s.conn.info.backend_pid)
            assert backends() == [first]  # kept, and used again
            settings = await shared.read(lambda s: s.conn.execute(
                "SELECT current_setting('transaction_read_only') AS ro, current_setting('lock_timeout') AS lt,"
                " current_user AS u").fetchone())
            assert settings == {"ro": "on", "lt": pool.LOCK_TIMEOUT, "u": "jobset_monitor"}
            with psycopg.connect(crowd_db, autocommit=True) as conn:  # as in a database restart
                conn.execute("SELECT pg_terminate_backend(%s)", (first,))
            second = await shared.read(lambda s: s.conn.info.backend_pid)
            assert second != first and await settled([second])
        finally:
            shared.close()
        assert await settled([])

    anyio.run(main)


def test_a_client_too_far_behind_is_disconnected_not_left_to_grow():
    m = manifest_mod.load(environment="test")

    async def main() -> None:
        hub = live.Hub("dbname=unused", m)
        slow, other = live.Stream(None), live.Stream("settle_games")
        hub.streams |= {slow, other}
        events = hub.events(slow)
        assert (await anext(events)).endswith("event: ready\ndata: {}\n\n")
        for i in range(live.QUEUE_SIZE + 5):
            hub._fan_out(json.dumps({"event": "start", "job": "cleanup", "execution_id": i, "at": "now"}))
        assert slow.behind and slow not in hub.streams and slow.queue.qsize() == 1  # what it held was freed
        assert other.queue.qsize() == 0 and other in hub.streams  # another job's stream: nothing for it
        assert (await anext(events)) == 'event: behind\ndata: {"queued": %d}\n\n' % live.QUEUE_SIZE
        with pytest.raises(StopAsyncIteration):
            await anext(events)

    asyncio.run(main())


def test_while_the_database_is_unreachable_a_stream_is_refused_at_once_and_the_listener_stops():
    m = manifest_mod.load(environment="test")

    async def main() -> None:
        hub = live.Hub("postgresql://nobody:hunter2@127.0.0.1:1/nowhere?connect_timeout=2", m)
        started = time.monotonic()
        with pytest.raises(ConnectionFailed) as refused:
            await hub.open(None)
        assert time.monotonic() - started < 3 and not hub.streams
        assert "hunter2" not in str(refused.value) and "nobody" not in str(refused.value)
        await until(lambda: hub._task.done(), "the listener kept trying with no stream open", live.BACKOFF_MIN_S + 3)
        await hub.close()

    asyncio.run(main())
