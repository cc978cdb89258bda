"""The one middleware: request context for every log line, problem+json for every error,
and one log line per request.

One middleware rather than two: each aiohttp middleware layer costs tens of microseconds per
request on the accept path (bench/accept_throughput.py). The accept route does this work
itself (service/routes/accept.py), marked `answers_for_itself`, and is passed through.
"""

from __future__ import annotations

import time

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from redis.exceptions import RedisError

from expbridge.events.store.connection import describe_redis_error
from expbridge.service.problems import Problem, problem_for_http_exception, redis_unavailable

log = structlog.get_logger("expbridge.service")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_ANSWERS_FOR_ITSELF = "_expbridge_answers_for_itself"


def answers_for_itself(handler: Handler) -> Handler:
    """Mark a handler that answers its errors as problem+json and writes its request's log line
    itself: the middleware passes it through."""
    setattr(handler, _ANSWERS_FOR_ITSELF, True)
    return handler


@web.middleware
async def request_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if getattr(handler, _ANSWERS_FOR_ITSELF, False):
        return await handler(request)
    # A keep-alive connection serves its requests in one task, hence one context: start clean,
    # and leave it clean for a handler that binds nothing (the accept route).
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(method=request.method, path=request.path)
    started = time.perf_counter()
    try:
        try:
            response = await handler(request)
        except Problem as problem:
            response = problem.response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = problem_for_http_exception(exc).response()
        except RedisError as error:  # reads and writes alike: weather, a 503 that says what it was
            log.warning("redis trouble", error=describe_redis_error(error))
            response = redis_unavailable(error).response()
        except ConnectionError:
            # The client went away (mid-body, or before the answer): nothing to answer, no fault.
            elapsed_ms = round((time.perf_counter() - started) * 1e3)
            log.info("client disconnected", duration_ms=elapsed_ms)
            raise
        except Exception:
            log.exception("unhandled error")
            response = Problem(500, "Internal error", "the request could not be handled").response()
        if request.path not in QUIET_PATHS:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            log.info("request", status=response.status, duration_ms=duration_ms)
        return response
    finally:
        structlog.contextvars.clear_contextvars()
