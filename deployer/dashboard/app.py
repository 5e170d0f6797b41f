"""`deployer dashboard`: the job set at a glance, in a browser (Starlette, served by uvicorn).

Pages: the jobs (health of each), a job (its runs as a chart, its latest runs, its SQL),
live runs pushed by server-sent events from the run announcements (LISTEN), and the picture
of the last `deployer simulate` (a file, not the database). Everything is
read through data.py's read-only sessions; nothing on a page, in an error or in the access
log names the connection string, and a token, when one is set, travels in a header or a
cookie, never in a logged URL.

Watching must never hurt the app: the pages share pool.Pool's few connections (`connections`,
default 3; a page that cannot get one within a few seconds is a 503), and every Live stream
shares live.Hub's one LISTEN connection (at most `max_streams` streams, default 50; the next
is a 503). So a dashboard holds at most `connections` + 1 of the database's connections,
however many people watch.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import ipaddress
import json
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio
import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from deployer import citus, status
from deployer.dashboard import chart, data, live, pool
from deployer.errors import ConnectionFailed, DeployerError, UsageError
from deployer.manifest import Manifest
from deployer.local import SIMULATION_PICTURE as PICTURE

HERE = Path(__file__).parent
TOKEN_ENV = "DEPLOYER_DASHBOARD_TOKEN"
COOKIE = "deployer_dashboard_token"
# The caps, from the environment (the names the CLI's options would take): the Live streams
# served at once, and the database connections the pages share (the listener is one more).
MAX_STREAMS_ENV = "DEPLOYER_DASHBOARD_MAX_STREAMS"
CONNECTIONS_ENV = "DEPLOYER_DASHBOARD_CONNECTIONS"
REAP_S = 10.0  # how often idle page connections are looked at (pool.IDLE_S closes them)
RETRY_AFTER_S = "5"  # what a 503 for want of a connection or a stream suggests
HEADERS = {
    # Everything the pages use comes from this server: no CDN, works offline.
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
                               " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
STATES = {  # state -> (css class, what a person reads)
    "healthy": ("ok", "healthy"), "failing": ("bad", "failing"), "overdue": ("warn", "overdue"),
    "never ran": ("idle", "never ran"), "drifted": ("drift", "drifted"), "running": ("run", "running"),
    "disabled": ("idle", "disabled"), "not deployed": ("bad", "not deployed"),
    "blind": ("bad", "blind: row security hides rows"), "unscheduled": ("bad", "not in pg_cron"),
    "manual": ("idle", "runs by hand"),
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, port: int, token: str | None) -> None:
    """Refuse what must not be served: a bad port, an empty token, a non-loopback address
    without a token."""
    if not 1 <= port <= 65535:
        raise UsageError(f"--port must be between 1 and 65535, not {port}")
    if token is not None and not token.strip():
        raise UsageError(f"the token is empty: pass --token or set {TOKEN_ENV} to a secret")
    if token is None and not is_loopback(host):
        raise UsageError(f"refusing to serve on {host} (not loopback) without a token: pass --token or set {TOKEN_ENV}")


def limit(value: int | None, env: str, default: int, what: str) -> int:
    """A cap: `value` when given, else $`env`, else `default`; at least 1."""
    if value is None:
        given = os.environ.get(env, "").strip()
        if not given:
            return default
        try:
            value = int(given)
        except ValueError:
            raise UsageError(f"{env} must be a whole number ({what}), not {given!r}") from None
    if value < 1:
        raise UsageError(f"{env} must be at least 1 ({what}), not {value}")
    return value


def _safe(exc: DeployerError) -> str:
    """An error for a page or a log line: never the connection string, not even redacted."""
    if isinstance(exc, ConnectionFailed):
        return f"cannot connect to the database: {exc.reason}"
    return str(exc)


# -- templates -------------------------------------------------------------------------------

def _utc(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "" if value is None else value.astimezone(timezone.utc).strftime(fmt) + " UTC"


def _ms(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def _code(text: Any) -> Markup:
    """Text with its `backticked` parts as code (a description from the manifest)."""
    parts = str(text or "").split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick is text
        parts = [*parts[:-2], parts[-2] + "`" + parts[-1]]
    return Markup("").join(Markup("<code>{}</code>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts))


def _pretty(value: Any) -> str:
    return "" if value is None else json.dumps(value, indent=None, sort_keys=True, default=str)


def make_templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(utc=_utc, ms=_ms, ago=data.ago, span=data.span, pretty=_pretty, code=_code)
    env.globals.update(states=STATES)
    return env


# -- the token gate and the headers every response carries ----------------------------------

class Guard:
    """ASGI middleware: security headers on every response; with a token, every request
    must carry it (Authorization: Bearer, or the cookie). `?token=` is taken once: the
    answer sets the cookie and sends the browser to the same URL without it."""

    def __init__(self, app, token: str | None):
        self.app = app
        self.token = token.encode() if token else None

    def _ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [
                    (k.encode(), v.encode()) for k, v in HEADERS.items()]
            await send(message)

        if self.token is None:
            await self.app(scope, receive, send_with_headers)
            return
        request = Request(scope)
        auth = request.headers.get("authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if self._ok(bearer) or self._ok(request.cookies.get(COOKIE)):
            await self.app(scope, receive, send_with_headers)
            return
        given = request.query_params.get("token")
        if given is not None and self._ok(given):
            rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            response: Response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), status_code=303)
            response.set_cookie(COOKIE, given, httponly=True, samesite="strict", path="/")
        else:
            response = PlainTextResponse("401 Unauthorized: this dashboard needs its token (Authorization: Bearer,"
                                         " or open it once with ?token=…)\n", status_code=401,
                                         headers={"www-authenticate": 'Bearer realm="deployer dashboard"'})
        await response(scope, receive, send_with_headers)


class StripQuery(logging.Filter):
    """uvicorn's access log without query strings: no token, nothing a URL carried."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = args[2].split("?", 1)[0]
            record.args = tuple(args)
        return True


# -- the app -------------------------------------------------------------------------------

def create_app(dsn: str, manifest: Manifest, token: str | None = None, *, max_streams: int = live.MAX_STREAMS,
               connections: int = pool.SIZE, simulation: Path = PICTURE) -> Guard:
    templates = make_templates()
    channel = manifest.settings["notify_channel"]
    cached: dict[bool, list] = {}  # the units, rendered once for the database's kind (Citus or not)

    def rendered(s: data.Session) -> list:
        on_citus = citus.for_database(s.conn, manifest).citus
        if on_citus not in cached:
            cached[on_citus] = data.units(replace(manifest, citus=on_citus))
        return cached[on_citus]

    sessions = pool.Pool(dsn, manifest, size=connections)
    hub = live.Hub(dsn, manifest, max_streams=max_streams)

    def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("nav", name.removesuffix(".html"))
        html = templates.get_template(name).render(channel=channel, **context)
        return HTMLResponse(html, status_code=status_code)

    async def page(name: str, **context: Any) -> HTMLResponse:
        """A page rendered in a worker thread: a large chart does not hold up the live streams."""
        return await anyio.to_thread.run_sync(partial(render, name, **context))

    async def jobs_page(request: Request) -> HTMLResponse:
        overview, role = await sessions.read(lambda s: (data.jobs_overview(s, manifest, rendered(s)), s.role))
        return await page("jobs.html", role=role, **overview)

    async def job_page(request: Request) -> HTMLResponse:
        name = request.path_params["name"]
        try:
            days = int(request.query_params.get("days", "7"))
        except ValueError:
            raise UsageError("days must be a whole number") from None
        try:
            detail, role = await sessions.read(
                lambda s: (data.job_detail(s, manifest, rendered(s), name, days), s.role))
        except LookupError:
            raise HTTPException(404, f"no job named {name} in the manifest or the registry") from None
        svg = await anyio.to_thread.run_sync(chart.runs_chart, detail["window"], detail["start"], detail["now"], name)
        return await page("job.html", nav="jobs", role=role, chart=svg, **detail)

    async def live_page(request: Request) -> HTMLResponse:
        job = request.query_params.get("job") or None
        runs, role = await sessions.read(lambda s: (data.live_runs(s), s.role))
        return await page("live.html", role=role, runs=[r for r in runs if job in (None, r["job_name"])], job=job)

    async def live_events(request: Request) -> StreamingResponse:
        stream = await hub.open(request.query_params.get("job") or None)
        return StreamingResponse(hub.events(stream), media_type="text/event-stream",
                                 headers={"x-accel-buffering": "no"})

    async def simulation_page(request: Request) -> HTMLResponse:
        """The picture `deployer simulate` drew last (a file this server reads, not the database)."""
        drawn = datetime.fromtimestamp(simulation.stat().st_mtime, timezone.utc) if simulation.is_file() else None
        return await page("simulation.html", drawn=drawn, path=str(simulation))

    async def simulation_picture(request: Request) -> Response:
        if not simulation.is_file():
            raise HTTPException(404, "no simulation yet: run deployer simulate")
        return Response(simulation.read_bytes(), media_type="image/svg+xml")

    async def failed(request: Request, exc: Exception) -> Response:
        headers = {}
        if isinstance(exc, HTTPException):
            code, message = exc.status_code, exc.detail
        elif isinstance(exc, UsageError):
            code, message = 400, str(exc)
        else:
            code, message = 503, _safe(exc)  # type: ignore[arg-type]
            if isinstance(exc, (pool.Busy, live.TooManyStreams)):
                headers["retry-after"] = RETRY_AFTER_S
        if request.url.path.startswith("/live/events"):
            return PlainTextResponse(message + "\n", status_code=code, headers=headers)
        response = render("error.html", status_code=code, nav="", code=code, message=message)
        response.headers.update(headers)
        return response

    async def reap() -> None:
        while True:
            await asyncio.sleep(REAP_S)
            sessions.reap()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        reaper = asyncio.get_running_loop().create_task(reap())
        try:
            yield
        finally:
            reaper.cancel()
            await hub.close()
            sessions.close()

    routes = [
        Route("/", jobs_page, name="jobs"),
        Route("/jobs/{name}", job_page, name="job"),
        Route("/live", live_page, name="live"),
        Route("/live/events", live_events, name="events"),
        Route("/simulation", simulation_page, name="simulation"),
        Route("/simulation.svg", simulation_picture, name="simulation_picture"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={DeployerError: failed, HTTPException: failed},
                    lifespan=lifespan)
    return Guard(app, token)


def probe(dsn: str, manifest: Manifest) -> str:
    """Connect once before serving, so a wrong DSN or an undeployed database is one line
    at the start, not an error page later; whom the pages will read as."""
    try:
        with data.session(dsn, manifest) as s:
            status.job_health(s.conn, s.schema)  # what every page reads: readable as this role
            return s.role
    except ConnectionFailed as exc:
        raise ConnectionFailed(_safe(exc), exc.reason) from None


def serve(dsn: str, manifest: Manifest, host: str, port: int, token: str | None,
          ready: Any = None, *, max_streams: int | None = None, connections: int | None = None,
          simulation: Path = PICTURE) -> None:
    """Serve until Ctrl-C (or SIGTERM). The caps: `max_streams` Live streams at once (else
    $DEPLOYER_DASHBOARD_MAX_STREAMS, else 50), `connections` the pages share (else
    $DEPLOYER_DASHBOARD_CONNECTIONS, else 3), besides the one the Live streams share."""
    import uvicorn

    check_bind(host, port, token)
    max_streams = limit(max_streams, MAX_STREAMS_ENV, live.MAX_STREAMS, "the most Live streams served at once")
    connections = limit(connections, CONNECTIONS_ENV, pool.SIZE, "the database connections the pages share")
    role = probe(dsn, manifest)
    app = create_app(dsn, manifest, token, max_streams=max_streams, connections=connections, simulation=simulation)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", lifespan="on",
                            access_log=True, timeout_graceful_shutdown=2, server_header=False)
    logging.getLogger("uvicorn.access").addFilter(StripQuery())
    sockets = listen(host, port)  # before it says where it listens
    if ready is not None:
        shown = f"[{host}]" if ":" in host else host
        ready(f"dashboard on http://{shown}:{port}/ reading as {role}, read-only"
              + ("; token required" if token else "")
              + f"; at most {connections} + 1 database connections, {max_streams} live streams; Ctrl-C to stop")
    try:
        uvicorn.Server(config).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()


def listen(host: str, port: int) -> list[socket.socket]:
    """Sockets bound to every address `host` names, on `port`, as uvicorn would bind them
    itself; a name that resolves to none, a port in use, an address not of this machine is
    one line (uvicorn would log it and exit 3)."""
    shown = f"[{host}]" if ":" in host else host
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: not an address this machine can listen on ({exc.strerror})") from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(found):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        why = {errno.EADDRINUSE: ": another program listens there; pick another --port",
               errno.EADDRNOTAVAIL: f": {host} is not an address of this machine",
               errno.EACCES: ": ports below 1024 need root" if port < 1024 else ""}.get(exc.errno, "")
        raise UsageError(f"cannot listen on {shown}:{port}: {exc.strerror or exc}{why}") from None
    return sockets
