"""The ingress' HTTP server: aiohttp's, with the guards a public listener needs.

* a header-read timeout (from the connection, or from a request's first byte, to the end of
  its headers: slowloris clients and silent sockets are dropped), a keep-alive idle timeout
  and a cap on connections per process (EXPBRIDGE_HTTP__*, config/http.py);
* aiohttp's own parser errors (a header over the size limit, too many headers, a bad request
  line) answered as problem+json that never repeats what the client sent — the default
  answer is text/plain with the offending bytes, a bearer token among them — and logged at
  info without them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from expbridge.config.http import HttpSettings
from expbridge.events.problem import PROBLEM_MEDIA_TYPE, problem_body
from expbridge.service import app_keys as keys
from expbridge.service.problems import Problem

log = structlog.get_logger("expbridge.service")


def _too_busy_answer() -> bytes:
    body = problem_body(
        503,
        "Service unavailable",
        "this ingress holds as many connections as it may; retry shortly",
        slug="too-many-connections",
    )
    head = (
        f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: {PROBLEM_MEDIA_TYPE}\r\n"
        f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class GuardedRequestHandler(RequestHandler):
    """One connection. The header deadline is one loop timer, armed when a request's first
    byte comes and left to run when its headers are in: when it fires it closes a connection
    still short of its headers past the deadline, re-arms itself for a later request's, or
    ends. Arming and cancelling a timer for every request cost the accept route about 2 µs
    (bench/accept_throughput.py); nothing runs per byte but a compare."""

    def __init__(self, manager: GuardedServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._limits = manager.limits
        self._header_timer: asyncio.TimerHandle | None = None
        # When the headers now awaited began to come (loop time); None: none awaited.
        self._headers_since: float | None = None
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        manager = self._manager
        if manager is not None and len(manager.connections) >= self._limits.max_connections:
            self._refused = True
            self._manager = None  # never registered: connection_lost has nothing to undo
            log.warning(
                "connection refused: too many connections", limit=self._limits.max_connections
            )
            assert isinstance(transport, asyncio.Transport)
            transport.write(_too_busy_answer())
            transport.close()
            return
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._headers_since is None and self._waiter is not None and not self._messages:
            self._await_headers()  # the first byte of the next request
        before = self._request_count
        super().data_received(data)
        if self._request_count != before:
            self._headers_since = None  # its headers are in

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        self._headers_since = self._loop.time()
        if self._header_timer is None:
            timeout = self._limits.header_read_timeout_s
            self._header_timer = self._loop.call_later(timeout, self._check_header_deadline)

    def _check_header_deadline(self) -> None:
        self._header_timer = None
        since = self._headers_since
        if since is None:
            return  # no headers awaited now: the next request's first byte arms the timer
        timeout = self._limits.header_read_timeout_s
        left = since + timeout - self._loop.time()
        if left > 0 or self._request_in_progress:  # a later request's headers, not yet due
            self._header_timer = self._loop.call_later(
                left if left > 0 else timeout, self._check_header_deadline
            )
            return
        log.info("connection closed: no complete request headers in time")
        self.force_close()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            raise ConnectionError("the answer was under way; cannot send an error instead")
        if status >= 500:
            # Not the exception's text: it may quote what the client sent.
            log.error("error handling request", error=type(exc).__name__ if exc else None)
            problem = Problem(status, "Internal error", "the request could not be handled")
        else:
            log.info("malformed request refused", status=status, error=type(exc).__name__)
            problem = Problem(
                status,
                "Bad request",
                "the request line or headers are malformed or over the size limits "
                f"(headers at most {self._limits.max_field_size} bytes each, "
                f"{self._limits.max_headers} in all)",
                slug="malformed-request",
            )
        response = problem.response()
        response.force_close()
        return response


class GuardedServer(web.Server):
    def __init__(self, handler: Any, *, limits: HttpSettings, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.limits = limits

    def __call__(self) -> RequestHandler:
        return GuardedRequestHandler(self, loop=self._loop, **self._kwargs)


def with_direct_routes(routed: Handler, direct: dict[tuple[str, str], Handler]) -> Handler:
    """The server's request handler: a direct route's requests go straight to its handler,
    past the router and the middleware layer (which cost about a tenth of the accept route's
    time, bench/accept_throughput.py); the rest, and a request that expects a 100-continue
    (aiohttp's router answers those), go through the app."""
    if not direct:
        return routed

    # A plain function handing on the handler's coroutine, which aiohttp awaits: no frame of
    # its own to suspend and resume around every request's await.
    def handle(request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
        route = direct.get((request.method, request.path))
        if route is None or hdrs.EXPECT in request.headers:
            return routed(request)  # type: ignore[arg-type]
        return route(request)  # type: ignore[arg-type]

    return handle


class GuardedAppRunner(web.AppRunner):
    """web.AppRunner whose connections are GuardedRequestHandlers."""

    def __init__(self, app: web.Application, limits: HttpSettings, **kwargs: Any) -> None:
        super().__init__(
            app,
            keepalive_timeout=limits.keepalive_timeout_s,
            max_line_size=limits.max_line_size,
            max_field_size=limits.max_field_size,
            max_headers=limits.max_headers,
            **kwargs,
        )
        self.limits = limits

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        return GuardedServer(
            with_direct_routes(plain.request_handler, self.app.get(keys.DIRECT_ROUTES, {})),
            limits=self.limits,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=asyncio.get_running_loop(),
            **self._kwargs,
        )


@contextlib.asynccontextmanager
async def listening(
    app: web.Application, limits: HttpSettings, host: str, port: int, shutdown_timeout: float
) -> AsyncIterator[str]:
    """Serve `app` on host:port (0: any free port) until the block ends; yields its base URL.
    On the way out it stops listening first, then lets requests in flight finish."""
    runner = GuardedAppRunner(app, limits, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        yield f"http://{host if ':' not in host else f'[{host}]'}:{bound[1]}"
    finally:
        await runner.cleanup()
