"""python -m bench.dashboard_crowd [--streams 230] [--pages 60] [--timeout 60]

Issue 23's crowd, against the real dashboard: a throwaway cluster (deployer.local: loopback
only, max_connections 200, deleted at the end), the job set and the reference app schema
deployed, `deployer dashboard` on a free loopback port with its default caps; then
`--streams` Live streams and `--pages` page requests at once from this one process, while
pg_stat_activity is sampled. It prints the streams served and refused (503), the pages
served and refused, the most connections the dashboard held at once, whether the app could
still open a connection with the crowd in place, and how many of the open streams one
`CALL jobs.run_job(...)` reached. Everything stops by itself within `--timeout` seconds.

The client is raw asyncio HTTP/1.1 (no dependency), each request bounded by STEP_S;
tests/test_dashboard_crowd.py uses it too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

STEP_S = 10.0  # the most one request, or one wait for an event, takes
DASHBOARD_BACKENDS = ("SELECT count(*) FILTER (WHERE application_name LIKE 'deployer dashboard%%') AS total,"
                      "       count(*) FILTER (WHERE application_name = 'deployer dashboard live') AS listening,"
                      "       count(*) FILTER (WHERE application_name = 'deployer dashboard'"
                      "                          AND wait_event_type = 'Lock') AS waiting"
                      "  FROM pg_stat_activity WHERE datname = current_database()")


# -- the client -------------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str = ""


@dataclass
class Stream:
    """One /live/events request: its answer and, for a 200, the events read so far."""
    answer: Answer
    writer: asyncio.StreamWriter | None = None
    events: list[tuple[str, str]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    reader_task: asyncio.Task | None = None

    def named(self, name: str) -> list[dict]:
        return [json.loads(d) for e, d in self.events if e == name]

    async def wait_for(self, check, timeout: float = STEP_S) -> None:
        """Until check(self) holds; TimeoutError after `timeout` seconds."""
        async with asyncio.timeout(timeout):
            while not check(self):
                self.arrived.clear()
                await self.arrived.wait()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        buffer = ""
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)  # chunked transfer encoding
            if size == 0:
                return
            buffer += (await reader.readexactly(size + 2))[:-2].decode()
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                name, lines = "message", []
                for line in block.splitlines():
                    if line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("data: "):
                        lines.append(line[6:])
                if lines:
                    self.events.append((name, "\n".join(lines)))
                    self.arrived.set()

    def close(self) -> None:
        if self.reader_task is not None:
            self.reader_task.cancel()
        if self.writer is not None:
            self.writer.close()


async def _head(port: int, path: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, Answer]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    return reader, writer, Answer(int(head[0].split()[1]), {k.lower(): v for k, v in headers.items()})


async def get_page(port: int, path: str) -> Answer:
    """One page, read to its end."""
    async with asyncio.timeout(STEP_S):
        reader, writer, answer = await _head(port, path)
        try:
            answer.body = (await reader.read()).decode()
        finally:
            writer.close()
        return answer


async def open_stream(port: int, path: str = "/live/events") -> Stream:
    """A stream, read in the background while it is open (close() ends it); a refused one
    with its body."""
    async with asyncio.timeout(STEP_S):
        reader, writer, answer = await _head(port, path)
        if answer.status != 200:
            answer.body = (await reader.read()).decode()
            writer.close()
            return Stream(answer)
    stream = Stream(answer, writer)
    stream.reader_task = asyncio.get_running_loop().create_task(stream._read(reader))
    return stream


# -- the database's side ----------------------------------------------------------------------------

class Sampler:
    """The dashboard's connections per pg_stat_activity every 10 ms, in a thread: the most
    seen at once."""

    def __init__(self, dsn: str):
        self.dsn, self.most, self.samples = dsn, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True, application_name="crowd sampler") as conn:
            while not self._stop.is_set():
                total = conn.execute(DASHBOARD_BACKENDS).fetchone()[0]
                self.most, self.samples = max(self.most, total), self.samples + 1
                self._stop.wait(0.01)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=STEP_S)


def run_job(dsn: str, job: str = "cleanup_media") -> int:
    """CALL jobs.run_job(job) as another session would; its execution id."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CALL jobs.run_job(%s, p_executed_by => 'the crowd')", (job,))
        return conn.execute("SELECT max(id) FROM jobs.job_executions WHERE job_name = %s", (job,)).fetchone()[0]


def reached(stream: Stream, execution_id: int) -> bool:
    return any(e["execution_id"] == execution_id and e["event"] == "end" for e in stream.named("run"))


# -- the run ---------------------------------------------------------------------------------------

async def crowd(port: int, dsn: str, streams: int, pages: int) -> dict:
    opened = await asyncio.gather(*(open_stream(port) for _ in range(streams)), return_exceptions=True)
    served = [s for s in opened if isinstance(s, Stream) and s.answer.status == 200]
    try:
        answers = await asyncio.gather(*(get_page(port, ("/", "/live", "/jobs/cleanup_media")[i % 3])
                                         for i in range(pages)), return_exceptions=True)
        try:  # what issue 23 found: the app itself refused, "sorry, too many clients already"
            with psycopg.connect(dsn, autocommit=True, application_name="snapbet app") as app:
                app_ok: bool | str = app.execute("SELECT 1").fetchone()[0] == 1
            run = run_job(dsn)
            got = await asyncio.gather(*(s.wait_for(lambda s: reached(s, run)) for s in served),
                                       return_exceptions=True)
        except psycopg.OperationalError as exc:
            app_ok, got = str(exc).strip().splitlines()[-1], []
    finally:
        for s in opened:
            if isinstance(s, Stream):
                s.close()
    return {
        "streams": dict(Counter(s.answer.status if isinstance(s, Stream) else type(s).__name__ for s in opened)),
        "pages": dict(Counter(a.status if isinstance(a, Answer) else type(a).__name__ for a in answers)),
        "app_could_connect": app_ok,
        "announcement_reached": f"{sum(g is None for g in got)} of {len(served)} open streams",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard_crowd", description=__doc__.splitlines()[2])
    parser.add_argument("--streams", type=int, default=230, help="Live streams opened at once")
    parser.add_argument("--pages", type=int, default=60, help="page requests made at once beside them")
    parser.add_argument("--timeout", type=float, default=60.0, help="the most the crowd may take, in seconds")
    args = parser.parse_args(argv)
    from deployer import install, manifest
    from deployer.local import throwaway

    m = manifest.load()
    with throwaway("jobset-crowd-", 56532) as cluster:
        dsn = cluster.url()
        install.deploy(dsn, m, with_app_schema=True, with_schedule=False)
        with psycopg.connect(dsn) as conn:
            max_connections = conn.execute("SHOW max_connections").fetchone()[0]
        port = _free_port()
        env = {k: v for k, v in os.environ.items()  # the default caps, the manifest as deployed
               if k not in ("DEPLOYER_DASHBOARD_TOKEN", "DEPLOYER_DASHBOARD_MAX_STREAMS",
                            "DEPLOYER_DASHBOARD_CONNECTIONS", "DEPLOYER_ENV")}
        env["DATABASE_URL"] = dsn
        with tempfile.TemporaryFile() as log:
            server = subprocess.Popen([sys.executable, "-m", "deployer.cli", "dashboard", "--port", str(port)],
                                      stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
            try:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        break
                    except OSError:
                        if server.poll() is not None or time.monotonic() > deadline:
                            log.seek(0)
                            raise SystemExit(f"the dashboard did not start: {log.read().decode()[-2000:]}")
                        time.sleep(0.1)
                started = time.monotonic()
                with Sampler(dsn) as sampler:
                    result = asyncio.run(asyncio.wait_for(crowd(port, dsn, args.streams, args.pages), args.timeout))
                result["seconds"] = round(time.monotonic() - started, 1)
            finally:
                server.send_signal(signal.SIGINT)
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
    result.update(most_dashboard_connections=sampler.most, max_connections=int(max_connections))
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
