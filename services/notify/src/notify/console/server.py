"""The proctor web console: an aiohttp app inside the notify process (see README.md).

``start_console`` binds it; every API route turns one HTTP request into one call of notify's own
gRPC API with the browser's token (``upstream.py``), so the console authorises nothing itself.
Every response carries a strict Content-Security-Policy (scripts only from this origin, no inline
script, Trusted Types enforced so the page cannot assign HTML strings at all).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from aiohttp import web

from notify import metrics
from notify.console import handlers
from notify.console.errors import ConsoleError, error_body, from_rpc_error, json_error
from notify.console.feed import FeedLimits
from notify.console.upstream import REQUEST_ID, NotifyClient
from proctor_storage import SegmentStore

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY_BYTES = 64 * 1024

CSP = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

HTTP_REFUSALS = {
    404: ("ROUTE_NOT_FOUND", "no such API route", "接口不存在"),
    405: ("METHOD_NOT_ALLOWED", "this method is not allowed here", "不支持该请求方法"),
    413: ("BODY_TOO_LARGE", f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB",
          f"请求体超过 {MAX_BODY_BYTES // 1024} KiB"),
}

CLIENT_KEY = web.AppKey("client", NotifyClient)
STATE_KEY = web.AppKey("state", handlers.ConsoleState)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, gRPC/console errors -> JSON, one metric and one log line per request."""
    request_id = uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except ConsoleError as exc:
        status = exc.status
        return json_error(exc.status, exc.body, request_id)
    except grpc.aio.AioRpcError as err:
        status, body = from_rpc_error(err, request_id)
        return json_error(status, body, request_id)
    except web.HTTPException as exc:  # no route, wrong method, body too large: the same JSON error shape
        status = exc.status
        if status < 400 or not request.path.startswith("/api/"):
            raise
        reason, en, zh = HTTP_REFUSALS.get(status, (f"HTTP_{status}", exc.reason, exc.reason))
        return json_error(status, error_body(f"HTTP_{status}", reason, en, zh, {"request_id": request_id}),
                          request_id)
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        metrics.CONSOLE_REQUESTS.labels(route, str(status)).inc()
        if route.startswith("/api/"):  # never the headers (the token), never the query (cursors)
            log.info("console request", extra={"method": request.method, "route": route, "status": status,
                                               "request_id": request_id,
                                               "ms": round((time.perf_counter() - started) * 1000, 1)})


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/") or request.path == "/":
        response.headers.setdefault("Cache-Control", "no-store")


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Content-Type": "text/html; charset=utf-8"})


async def _favicon(request: web.Request) -> web.Response:
    return web.Response(status=204)


def build_app(client: NotifyClient, store: SegmentStore | None, limits: FeedLimits | None = None) -> web.Application:
    app = web.Application(middlewares=[api_errors], client_max_size=MAX_BODY_BYTES)
    state = handlers.ConsoleState(client, store, limits or FeedLimits())
    app[CLIENT_KEY] = client
    app[STATE_KEY] = state
    app.on_response_prepare.append(_security_headers)
    h = handlers.Handlers(state)
    r = app.router
    r.add_get("/", _index)
    r.add_get("/favicon.ico", _favicon)
    r.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    r.add_get("/api/v1/feed", h.feed)
    r.add_get("/api/v1/incidents", h.list_incidents)
    r.add_get("/api/v1/incidents/{incident_id}", h.get_incident)
    r.add_post("/api/v1/incidents/{incident_id}/acknowledge", h.acknowledge)
    r.add_post("/api/v1/incidents/{incident_id}/resolve", h.resolve)
    r.add_post("/api/v1/incidents/{incident_id}/escalate", h.escalate)
    r.add_get(r"/api/v1/incidents/{incident_id}/evidence/{index:\d{1,4}}/thumbnail", h.thumbnail)
    r.add_get("/api/v1/help/threads", h.list_threads)
    r.add_get("/api/v1/help/threads/{candidate_id}", h.list_thread)
    r.add_post("/api/v1/help/threads/{candidate_id}/reply", h.reply)
    r.add_post("/api/v1/candidates/{candidate_id}/notices", h.send_notice)
    return app


@dataclass
class ConsoleHandle:
    port: int
    runner: web.AppRunner = field(repr=False)
    state: handlers.ConsoleState = field(repr=False)
    client: NotifyClient = field(repr=False)

    async def stop(self) -> None:
        """End every live feed (their gRPC calls are cancelled), stop listening, close the channel."""
        self.state.stopping.set()
        await self.state.wait_feeds_closed(timeout_s=5.0)
        await self.runner.cleanup()
        await self.client.close()
        log.info("console stopped", extra={"port": self.port})


async def start_console(host: str, port: int, grpc_target: str, store: SegmentStore | None) -> ConsoleHandle:
    """Serve the console on ``host:port`` (0 = a free port), calling notify's gRPC API at ``grpc_target``."""
    client = NotifyClient(grpc_target)
    app = build_app(client, store)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        await client.close()
        raise
    bound = _bound_port(runner, port)
    log.info("console listening", extra={"host": host, "port": bound, "grpc_target": grpc_target,
                                         "thumbnails": store is not None})
    return ConsoleHandle(bound, runner, app[STATE_KEY], client)


def _bound_port(runner: web.AppRunner, requested: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return requested


