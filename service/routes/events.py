"""POST /v1/events (accept one event), GET /v1/events/{id} (its status record) and
POST /v1/events/{id}/cancel."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson
import structlog
from aiohttp import web
from opentelemetry.context import Context

from expbridge.config.tracing import TRACE_FIELDS, context_from
from expbridge.events.record import utcnow
from expbridge.events.store.connection import describe_redis_error
from expbridge.events.store.submit import (
    IdempotencyConflict,
    IdempotencyInFlight,
    QueueUnavailable,
    Submission,
    submit,
)
from expbridge.service import app_keys as keys
from expbridge.service.auth import Caller
from expbridge.service.problems import Problem, redis_unavailable
from expbridge.service.received_counter import counted_as_received
from expbridge.service.validation import (
    JSON_TYPES,
    binary_mode_envelope,
    not_before_of,
    parse_envelope,
    parse_json_object,
    read_body,
    validate_event,
)

log = structlog.get_logger("expbridge.service")
# As long as the longest producer id (events/envelope.py), which is a key too.
MAX_IDEMPOTENCY_KEY = 256
routes = web.RouteTableDef()
CLOUDEVENT_JSON = "application/cloudevents+json"
TRACE_FIELDS_SET = frozenset(TRACE_FIELDS)
TRACE_HEADERS = frozenset(f"ce-{name}" for name in TRACE_FIELDS)


def accepted_body(event_id: str, event_type: str, status: str = "queued") -> dict[str, object]:
    return {
        "id": event_id,
        "status": status,
        "type": event_type,
        "links": {"self": f"/v1/events/{event_id}"},
    }


def fingerprint(request: web.Request, body: bytes, raw: dict[str, Any]) -> str:
    """What "the same request" means for idempotency: the same bytes (and CloudEvent headers).
    The CloudEvents trace context is left out: a retry under a new trace is the same event."""
    if request.content_type == CLOUDEVENT_JSON and not TRACE_FIELDS_SET.isdisjoint(raw):
        rest = {name: value for name, value in raw.items() if name not in TRACE_FIELDS_SET}
        body = json.dumps(rest, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(body)
    for name in sorted(h for h in request.headers if h.lower().startswith("ce-")):
        if name.lower() not in TRACE_HEADERS:
            digest.update(f"\n{name.lower()}:{request.headers[name]}".encode())
    return digest.hexdigest()


def trace_parent(request: web.Request, raw: dict[str, Any], cloudevent: bool) -> Context | None:
    """The producer's trace: the CloudEvents distributed-tracing extension (structured or
    binary mode: the event's own context), else the request's traceparent header."""
    return (context_from(raw) if cloudevent else None) or context_from(request.headers)


def idempotency_key_of(request: web.Request, caller: Caller, producer_id: str | None) -> str | None:
    """A signed request's key is its signed webhook-id: an unsigned Idempotency-Key header
    beside it would let a captured request be replayed as a new event."""
    key = caller.signed_id or request.headers.get("Idempotency-Key") or producer_id
    if key is not None and not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise Problem(
            400,
            "Bad idempotency key",
            f"the idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
        )
    return key


@routes.post("/v1/events")
@counted_as_received
async def post_event(request: web.Request) -> web.Response:
    app = request.app
    binary = "ce-specversion" in request.headers
    if request.content_type not in JSON_TYPES:
        raise Problem(
            415,
            "Unsupported media type",
            "send application/json or application/cloudevents+json "
            f"(got {request.content_type or 'none'})",
        )
    body = await read_body(request)
    caller = app[keys.AUTHENTICATOR].authenticate(request, body)
    source = caller.source
    request[keys.RECEIVED_SOURCE] = source
    structlog.contextvars.bind_contextvars(source=source)
    raw = binary_mode_envelope(request.headers, body) if binary else parse_json_object(body)
    envelope = parse_envelope(request.content_type, raw, binary)
    request[keys.RECEIVED_TYPE] = envelope.type
    aliases = app[keys.TARGET_ALIASES]
    event = validate_event(envelope, aliases)
    now = utcnow()
    about = Submission(
        not_before=not_before_of(envelope, now, app[keys.SETTINGS].max_schedule_ahead_s),
        producer_id=envelope.id,
        time=envelope.time,
        span="POST /v1/events",
        trace_parent=trace_parent(request, raw, binary or request.content_type == CLOUDEVENT_JSON),
    )
    try:
        submitted = await submit(
            app[keys.ACCEPTOR],
            envelope.type,
            source,
            event.data,
            idempotency_key=idempotency_key_of(request, caller, envelope.id),
            fingerprint=fingerprint(request, body, raw),
            about=about,
        )
    except IdempotencyConflict:
        raise Problem(
            422,
            "Idempotency key reused",
            "this idempotency key was used before with a different body",
            slug="idempotency-key-reused",
        ) from None
    except IdempotencyInFlight:
        raise Problem(
            409,
            "Request in progress",
            "a request with this idempotency key is still being accepted; retry shortly",
            slug="idempotency-in-flight",
        ) from None
    except QueueUnavailable as unavailable:
        log.warning("accept failed: redis trouble", error=describe_redis_error(unavailable.cause))
        raise redis_unavailable(unavailable.cause, "the event was not accepted") from None
    record = submitted.record
    # The request's one log line (service/request_log.py) carries these.
    structlog.contextvars.bind_contextvars(
        event_id=submitted.event_id,
        type=record.type,
        target=record.target,
        replayed=submitted.replayed,
    )
    headers = {"Location": f"/v1/events/{submitted.event_id}"}
    if submitted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return web.Response(
        body=orjson.dumps(accepted_body(submitted.event_id, record.type, record.status)),
        status=202,
        headers=headers,
        content_type="application/json",
    )


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
