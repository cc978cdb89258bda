"""POST /v1/events: authenticate, validate and durably accept one event.

The hottest route, so it does the request middleware's work itself (problem+json for every
error, the events-received metric, its one log line) and the server hands it its requests
straight, past aiohttp's router and middleware layer (service/http_server.py); everything a
request does not need to redo is looked up once, when the route is built at start-up. The same
route is also in the router, for what the server passes on (`Expect: 100-continue`).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import orjson
import structlog
from aiohttp import hdrs, web
from opentelemetry.context import Context
from opentelemetry.trace import SpanContext
from redis.exceptions import RedisError

from expbridge.config.accept_span import SpanRecorder, refused_span
from expbridge.config.logging import info_line_writer, scrub_text
from expbridge.config.tracing import TRACE_FIELDS, context_from, tracing_on
from expbridge.events.record import utcnow
from expbridge.events.store.connection import describe_redis_error
from expbridge.events.store.submit import (
    IdempotencyConflict,
    IdempotencyInFlight,
    QueueUnavailable,
    Submission,
    Submitted,
    submit,
)
from expbridge.service import app_keys as keys
from expbridge.service.auth import Caller
from expbridge.service.problems import Problem, problem_for_http_exception, redis_unavailable
from expbridge.service.request_log import answers_for_itself
from expbridge.service.validation import (
    JSON_TYPES,
    binary_mode_envelope,
    not_before_of,
    parse_envelope,
    parse_json_object,
    read_body,
    received_body,
    validate_event,
)

log = structlog.get_logger("expbridge.service")
routes = web.RouteTableDef()
PATH = "/v1/events"
SPAN_NAME = f"POST {PATH}"
# As long as the longest producer id (events/envelope.py), which is a key too.
MAX_IDEMPOTENCY_KEY = 256
CLOUDEVENT_JSON = "application/cloudevents+json"
TRACE_FIELDS_SET = frozenset(TRACE_FIELDS)
TRACE_HEADERS = frozenset(f"ce-{name}" for name in TRACE_FIELDS)
# nginx's name for it: the client went away before an answer (counted as a 4xx, not a 5xx).
CLIENT_CLOSED_REQUEST = 499


def accepted_answer(event_id: str, event_type: str, status: str) -> bytes:
    """The 202's body: service/answers.py's AcceptedEvent (what the OpenAPI document shows),
    field for field and byte for byte (tests/service/test_openapi.py), written by orjson: its
    four strings need no validating (pydantic's validator and serializer took ~3 µs of the
    route's own ~45)."""
    links = {"self": f"{PATH}/{event_id}"}
    return orjson.dumps({"id": event_id, "status": status, "type": event_type, "links": links})


def fingerprint(
    request: web.Request, body: bytes, raw: dict[str, Any], cloudevent: bool, binary: bool
) -> str:
    """What "the same request" means for idempotency: the same bytes, and in CloudEvents
    binary mode the same `ce-` headers (the event's attributes; any other request's are not
    read). The CloudEvents trace context is left out: a retry under a new trace is the same
    event."""
    if cloudevent and not TRACE_FIELDS_SET.isdisjoint(raw):
        rest = {name: value for name, value in raw.items() if name not in TRACE_FIELDS_SET}
        body = json.dumps(rest, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(body)
    if binary:
        ce_headers = [name for name in request.headers if name[:3].lower() == "ce-"]
        for name in sorted(ce_headers):
            if name.lower() not in TRACE_HEADERS:
                digest.update(f"\n{name.lower()}:{request.headers[name]}".encode())
    return digest.hexdigest()


def trace_parent(request: web.Request, raw: dict[str, Any], cloudevent: bool) -> Context | None:
    """The producer's trace: the CloudEvents distributed-tracing extension (structured or
    binary mode: the event's own context), else the request's traceparent header."""
    context = context_from(raw) if cloudevent else None
    if context is None and "traceparent" in request.headers:
        context = context_from(request.headers)
    return context


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


class AcceptRoute:
    """POST /v1/events for one app, built at start-up (once the acceptor exists)."""

    def __init__(self, app: web.Application) -> None:
        settings = app[keys.SETTINGS]
        self.settings = settings
        self.authenticator = app[keys.AUTHENTICATOR]
        self.acceptor = app[keys.ACCEPTOR]
        self.aliases = app[keys.TARGET_ALIASES]
        self.received = app[keys.METRICS].received
        # Tracing is configured before the app starts (off: a span only for a trace sent in).
        self.traced = tracing_on()
        self.span_recorder = SpanRecorder.of_current_provider()
        self.request_line = info_line_writer("expbridge.service")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """One request, whatever happens: an answer (problem+json for every error), one count,
        one log line."""
        started = time.perf_counter()
        started_ns = time.time_ns() if self.traced else 0
        # (the route's own method and path: it is only ever handed those requests)
        line: dict[str, Any] = {"method": "POST", "path": PATH}
        # The type and source as they are learnt, and whether the accept (and its span) began.
        noted: list[str | None] = [None, None, None]
        replayed = False
        problem: Problem | None = None
        try:
            submitted = await self._accept(request, noted)
        except Problem as refusal:
            problem = refusal
        except web.HTTPException as exc:  # 413 from aiohttp's own body limit
            problem = problem_for_http_exception(exc)
        except RedisError as error:
            log.warning("redis trouble", error=describe_redis_error(error))
            problem = redis_unavailable(error)
        except ConnectionError:
            # The client went away (mid-body): nothing to answer, no fault.
            self.received.add(noted[0], noted[1], CLIENT_CLOSED_REQUEST, False)
            duration_ms = round((time.perf_counter() - started) * 1e3)
            log.info("client disconnected", **line, duration_ms=duration_ms)
            raise
        except Exception:
            log.exception("unhandled error", **line)
            problem = Problem(500, "Internal error", "the request could not be handled")
        if problem is None:
            record = submitted.record
            replayed = submitted.replayed
            response = self._accepted(submitted)
            line["event_id"] = submitted.event_id
            line["type"] = record.type
            line["target"] = scrub_text(record.target)
            line["replayed"] = replayed
            if record.trace_id is not None and record.trace_context is not None:
                line["trace_id"] = record.trace_id
                line["span_id"] = record.trace_context["traceparent"][36:52]
        else:
            response = problem.response()
            if noted[2] is None:  # refused before the accept (whose span says how it failed)
                span = self._trace_refused(request, started_ns, problem)
                if span is not None and span.is_valid:
                    line["trace_id"] = format(span.trace_id, "032x")
                    line["span_id"] = format(span.span_id, "016x")
        if noted[1] is not None:
            line["source"] = noted[1]
        status = response.status
        self.received.add(noted[0], noted[1], status, replayed)
        line["status"] = status
        # (to 0.01 ms: round() to digits is five times dearer than to a whole number)
        line["duration_ms"] = round((time.perf_counter() - started) * 100_000) / 100
        self.request_line("request", line)
        return response

    def _trace_refused(
        self, request: web.Request, started_ns: int, problem: Problem
    ) -> SpanContext | None:
        parent = context_from(request.headers)
        if not self.traced and parent is None:
            return None
        return refused_span(
            self.span_recorder, SPAN_NAME, parent, started_ns, problem.status, problem.slug
        )

    async def _accept(self, request: web.Request, noted: list[str | None]) -> Submitted:
        headers = request.headers
        content_type = headers.get(hdrs.CONTENT_TYPE, "")
        if content_type not in JSON_TYPES:  # not plainly one: parsed (parameters, case)
            content_type = request.content_type
        if content_type not in JSON_TYPES:
            raise Problem(
                415,
                "Unsupported media type",
                "send application/json or application/cloudevents+json "
                f"(got {content_type or 'none'})",
            )
        binary = "ce-specversion" in headers
        cloudevent = binary or content_type == CLOUDEVENT_JSON
        body = received_body(request, self.settings)
        if body is None:  # still coming
            body = await read_body(request, self.settings)
        caller = self.authenticator.authenticate(request, body)
        source = noted[1] = caller.source
        raw = binary_mode_envelope(headers, body) if binary else parse_json_object(body)
        envelope = parse_envelope(content_type, raw, binary)
        noted[0] = envelope.type
        event = validate_event(envelope, self.aliases)
        not_before = None
        if envelope.schedule() is not None:
            not_before = not_before_of(envelope, utcnow(), self.settings.max_schedule_ahead_s)
        parent = trace_parent(request, raw, cloudevent)
        about = Submission(
            not_before=not_before,
            producer_id=envelope.id,
            time=envelope.time,
            span=SPAN_NAME if self.traced or parent is not None else None,
            trace_parent=parent,
            span_recorder=self.span_recorder,
        )
        noted[2] = "accepting"
        try:
            return await submit(
                self.acceptor,
                envelope.type,
                source,
                event.data,
                idempotency_key=idempotency_key_of(request, caller, envelope.id),
                fingerprint=fingerprint(request, body, raw, cloudevent, binary),
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
            log.warning(
                "accept failed: redis trouble",
                source=source,
                error=describe_redis_error(unavailable.cause),
            )
            raise redis_unavailable(unavailable.cause, "the event was not accepted") from None

    @staticmethod
    def _accepted(submitted: Submitted) -> web.Response:
        event_id = submitted.event_id
        # A plain dict: the response copies it into its own CIMultiDict anyway.
        headers: dict[str, str] = {
            hdrs.CONTENT_TYPE: "application/json",
            hdrs.LOCATION: f"{PATH}/{event_id}",
        }
        if submitted.replayed:
            headers["Idempotent-Replayed"] = "true"
        record = submitted.record
        body = accepted_answer(event_id, record.type, record.status)
        return web.Response(body=body, status=202, headers=headers)


@routes.post(PATH)
@answers_for_itself
async def post_event(request: web.Request) -> web.StreamResponse:
    return await request.app[keys.ACCEPT].handle(request)


def direct_routes(app: web.Application) -> dict[tuple[str, str], Any]:
    """What the server hands straight to a handler (by method and path)."""
    return {("POST", PATH): app[keys.ACCEPT].handle}
