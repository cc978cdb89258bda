"""One log line per request, with the request's context bound for every line it causes."""

from __future__ import annotations

import time

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

log = structlog.get_logger("expbridge.service")


@web.middleware
async def request_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(method=request.method, path=request.path)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        if request.path not in ("/healthz", "/readyz", "/metrics"):
            log.info("request", status=status, duration_ms=duration_ms)
        structlog.contextvars.clear_contextvars()
