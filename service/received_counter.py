"""Counting what POST /v1/events answered, once the outcome is known (expbridge_events_received)."""

from __future__ import annotations

import functools

from aiohttp import web
from aiohttp.typedefs import Handler

from expbridge.service import app_keys as keys
from expbridge.service.problems import Problem

# nginx's name for it: the client went away before an answer (counted as a 4xx, not a 5xx).
CLIENT_CLOSED_REQUEST = 499


def counted_as_received(handler: Handler) -> Handler:
    """Wrap the accept handler; it notes the type and source on the request as it learns them."""

    @functools.wraps(handler)
    async def counted(request: web.Request) -> web.StreamResponse:
        status, replayed = 500, False
        try:
            response = await handler(request)
            status = response.status
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            return response
        except (Problem, web.HTTPException) as error:
            status = error.status
            raise
        except ConnectionError:
            status = CLIENT_CLOSED_REQUEST
            raise
        finally:
            request.app[keys.METRICS].event_received(
                request.get(keys.RECEIVED_TYPE), request.get(keys.RECEIVED_SOURCE), status, replayed
            )

    return counted
