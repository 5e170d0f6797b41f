"""`deployer dashboard`: the job set at a glance, in a browser (Starlette, served by uvicorn).

Pages: the jobs (health of each), a job (its runs as a chart, its latest runs, its SQL), and
live runs pushed by server-sent events from the run announcements (LISTEN). Everything is
read through data.py's read-only session; nothing on a page, in an error or in the access
log names the connection string, and a token, when one is set, travels in a header or a
cookie, never in a logged URL.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio
import psycopg
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from deployer import status, watch
from deployer.dashboard import chart, data
from deployer.db import assume_role_async, connect_async, translated
from deployer.errors import ConnectionFailed, DeployerError, UsageError
from deployer.manifest import Manifest

HERE = Path(__file__).parent
TOKEN_ENV = "DEPLOYER_DASHBOARD_TOKEN"
COOKIE = "deployer_dashboard_token"
KEEPALIVE_S = 5.0  # an SSE comment this often: proxies keep the stream open, a gone client is noticed
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


def _pretty(value: Any) -> str:
    return "" if value is None else json.dumps(value, indent=None, sort_keys=True, default=str)


def make_templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(utc=_utc, ms=_ms, ago=data.ago, span=data.span, pretty=_pretty)
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

def create_app(dsn: str, manifest: Manifest, token: str | None = None) -> Guard:
    templates = make_templates()
    channel = manifest.settings["notify_channel"]
    rendered = data.units(manifest)

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("nav", name.removesuffix(".html"))
        html = templates.get_template(name).render(channel=channel, **context)
        return HTMLResponse(html, status_code=status_code)

    def jobs_page(request: Request) -> HTMLResponse:
        with data.session(dsn, manifest) as s:
            overview = data.jobs_overview(s, manifest, rendered)
        return page(request, "jobs.html", role=s.role, **overview)

    def job_page(request: Request) -> HTMLResponse:
        name = request.path_params["name"]
        try:
            days = int(request.query_params.get("days", "7"))
        except ValueError:
            raise UsageError("days must be a whole number") from None
        try:
            with data.session(dsn, manifest) as s:
                detail = data.job_detail(s, manifest, rendered, name, days)
        except LookupError:
            raise HTTPException(404, f"no job named {name} in the manifest or the registry") from None
        svg = chart.runs_chart(detail["window"], detail["start"], detail["now"], name)
        return page(request, "job.html", nav="jobs", role=s.role, chart=svg, **detail)

    def live_page(request: Request) -> HTMLResponse:
        job = request.query_params.get("job") or None
        with data.session(dsn, manifest) as s:
            runs = data.live_runs(s)
        return page(request, "live.html", role=s.role, runs=[r for r in runs if job in (None, r["job_name"])],
                    job=job)

    async def live_events(request: Request) -> StreamingResponse:
        job = request.query_params.get("job") or None
        conn = await connect_async(dsn, read_only=True, application_name=f"{data.APPLICATION_NAME} live")
        try:
            await assume_role_async(conn, data.monitor_role(manifest))
            with translated():
                await conn.execute(watch.listen_sql(manifest))
        except BaseException:
            await conn.close()
            raise
        return StreamingResponse(_announcements(conn, request, job), media_type="text/event-stream",
                                 headers={"x-accel-buffering": "no"})

    async def failed(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            code, message = exc.status_code, exc.detail
        elif isinstance(exc, UsageError):
            code, message = 400, str(exc)
        else:
            code, message = 503, _safe(exc)  # type: ignore[arg-type]
        if request.url.path.startswith("/live/events"):
            return PlainTextResponse(message + "\n", status_code=code)
        return page(request, "error.html", status_code=code, nav="", code=code, message=message)

    routes = [
        Route("/", jobs_page, name="jobs"),
        Route("/jobs/{name}", job_page, name="job"),
        Route("/live", live_page, name="live"),
        Route("/live/events", live_events, name="events"),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={DeployerError: failed, HTTPException: failed})
    return Guard(app, token)


async def _announcements(conn, request: Request, job: str | None) -> AsyncIterator[str]:
    """The SSE stream: `ready` once listening, then one `run` event per announcement (the
    event's fields and watch's line for a person), a comment every KEEPALIVE_S seconds."""
    try:
        yield "retry: 2000\nevent: ready\ndata: {}\n\n"
        while not await request.is_disconnected():
            async for note in conn.notifies(timeout=KEEPALIVE_S):
                event = watch.parse(note.payload, job)
                if event is not None:
                    event["line"] = watch.describe(event)
                    yield f"event: run\ndata: {json.dumps(event, default=str)}\n\n"
            yield ": keep-alive\n\n"
    except psycopg.OperationalError as exc:  # the server went away: end the stream, the page reconnects
        first = (str(exc).strip().splitlines() or ["no answer"])[0].strip()
        logging.getLogger("uvicorn.error").warning("live: lost the database connection: %s", first)
    finally:
        with anyio.CancelScope(shield=True):
            await conn.close()


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
          ready: Any = None) -> None:
    """Serve until Ctrl-C (or SIGTERM)."""
    import uvicorn

    check_bind(host, port, token)
    role = probe(dsn, manifest)
    config = uvicorn.Config(create_app(dsn, manifest, token), host=host, port=port, log_level="info",
                            access_log=True, timeout_graceful_shutdown=2, server_header=False)
    logging.getLogger("uvicorn.access").addFilter(StripQuery())
    if ready is not None:
        shown = f"[{host}]" if ":" in host else host
        ready(f"dashboard on http://{shown}:{port}/ reading as {role}, read-only"
              + ("; token required" if token else "") + "; Ctrl-C to stop")
    uvicorn.Server(config).run()
