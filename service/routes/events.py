"""GET /v1/events/{id} (an event's status record) and POST /v1/events/{id}/cancel; POST
/v1/events, the accept, is service/routes/accept.py."""

from __future__ import annotations

import structlog
from aiohttp import web

from expbridge.service import app_keys as keys
from expbridge.service.problems import Problem

routes = web.RouteTableDef()


def caller_of(request: web.Request) -> str | None:
    """The source calling (by bearer token), or None for the admin; 401 for anyone else."""
    authenticator = request.app[keys.AUTHENTICATOR]
    if authenticator.is_admin(request):
        return None
    source = authenticator.source_by_token(request)
    if source is None:
        raise Problem(401, "Unauthorized", "send the source's or the admin's bearer token")
    return source


@routes.get("/v1/events/{event_id}")
async def get_event(request: web.Request) -> web.Response:
    source = caller_of(request)
    event_id = request.match_info["event_id"]
    record = await request.app[keys.STORE].get(event_id) if len(event_id) <= 64 else None
    # Another source's event answers 404 too, so ids cannot be probed.
    if record is None or (source is not None and record.source != source):
        raise Problem(404, "Not found", f"no event {event_id!r}")
    return web.json_response(record.public())


@routes.post("/v1/events/{event_id}/cancel")
async def cancel_event(request: web.Request) -> web.Response:
    """A scheduled, queued or retrying event becomes cancelled and leaves its line."""
    source = caller_of(request)
    event_id = request.match_info["event_id"]
    if len(event_id) > 64:
        raise Problem(404, "Not found", f"no event {event_id!r}")
    done = await request.app[keys.CANCELLER].cancel(event_id, source or "admin", owner=source)
    structlog.contextvars.bind_contextvars(event_id=event_id, cancel=done.outcome)
    if done.outcome == "missing" or done.record is None:
        raise Problem(404, "Not found", f"no event {event_id!r}")
    if done.outcome == "running":
        raise Problem(
            409,
            "Event running",
            f"event {event_id!r} is running: it may already be upstream",
            slug="event-running",
        )
    if done.outcome == "finished":
        finished = f"event {event_id!r} has already finished ({done.record.status})"
        raise Problem(409, "Event finished", finished, slug="event-finished")
    return web.json_response(done.record.public())
