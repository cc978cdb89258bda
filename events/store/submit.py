"""One way into the queue for every edge that queues events: `POST /v1/events`, Slack commands,
the lifecycle rules' actions and the outcome callbacks. It builds the status record, scopes the
idempotency key to the source and accepts the event durably; what can go wrong is one family,
`SubmitError`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple, cast

from opentelemetry.context import Context
from redis.exceptions import RedisError

from expbridge.config.accept_span import (
    REPLAYED,
    REPLAYED_KEY,
    AcceptSpan,
    SpanRecorder,
    TraceFields,
    error_status,
    trace_fields,
)
from expbridge.events import keys
from expbridge.events.event_data import EventData
from expbridge.events.record import Cause, EventRecord, utcnow
from expbridge.events.schedule import is_due
from expbridge.events.store.acceptor import (
    Acceptor,
    IdempotencyConflict,
    IdempotencyInFlight,
    QueueUnavailable,
    SubmitError,
    new_event_id,
)

if TYPE_CHECKING:  # events/callbacks.py submits through here
    from expbridge.events.callbacks import CallbackData

__all__ = [
    "IdempotencyConflict",
    "IdempotencyInFlight",
    "QueueUnavailable",
    "SubmitError",
    "Submitted",
    "submit",
]


# Submitted and Submission are NamedTuples: immutable as frozen dataclasses, at a third of
# their cost to make (a frozen dataclass sets each field through object.__setattr__), and the
# ingress makes one of each per request.
class Submitted(NamedTuple):
    record: EventRecord  # as built here (a replay's first event may differ)
    event_id: str  # the accepted event's id: the first one's, on a replay
    replayed: bool


class Submission(NamedTuple):
    """What an edge knows about the event it queues, besides its type, source and data."""

    producer_id: str | None = None
    time: datetime | None = None
    cause: Cause | None = None
    reply_to: str | None = None
    # Tracing: an ingress edge names its accept span (continuing `trace_parent`, the
    # producer's trace).
    span: str | None = None
    trace_parent: Context | None = None
    # How the span is recorded (the ingress's, built once: config/accept_span.py).
    span_recorder: SpanRecorder | None = None
    # Called with the record before it is accepted (a rule action keeps its evaluation's trace).
    prepare: Callable[[EventRecord], None] | None = None
    # When the event takes effect: until then it is `scheduled`, outside its line.
    not_before: datetime | None = None


def build_record(
    event_type: str,
    source: str,
    data: EventData | CallbackData,
    about: Submission,
    event_id: str | None = None,
    trace: TraceFields | None = None,
) -> EventRecord:
    """The status record an event starts with (a Slack approval holds it until decided); with
    `trace`, the trace it belongs to (its accept span's: config/span_recorder.py)."""
    now = utcnow()
    # Every field comes validated (the edge's event, its source, the ids made here), so the
    # record is built without validating it again (events/record.py: `trusted`).
    return EventRecord.trusted(
        id=event_id or new_event_id(),
        received_at=now,
        updated_at=now,
        status="queued" if is_due(about.not_before, now) else "scheduled",
        not_before=about.not_before,
        type=event_type,
        source=source,
        target=data.ordering_key,
        producer_id=about.producer_id,
        time=about.time,
        # (the serializer itself: model_dump is a Python layer around it)
        data=data.__pydantic_serializer__.to_python(data, mode="json", exclude_unset=True),
        cause=about.cause,
        reply_to=about.reply_to,
        # (as fields here: cheaper than keep_trace on the record made)
        trace_id=trace[0] if trace is not None else None,
        trace_context=trace[1] if trace is not None else None,
    )


async def submit(
    acceptor: Acceptor,
    event_type: str,
    source: str,
    data: EventData | CallbackData,
    *,
    idempotency_key: str | None,
    fingerprint: str,
    about: Submission | None = None,
    event_id: str | None = None,
) -> Submitted:
    """Accept one validated event. `idempotency_key` is the edge's own (scoped to `source`
    here); `fingerprint` tells a replay of the same request from a reuse of its key."""
    about = about or Submission()
    recorder = about.span_recorder if about.span is not None else None
    if recorder is not None:  # the SDK's provider: recorded straight (config/accept_span.py)
        opened = recorder.start(cast(str, about.span), about.trace_parent)
        record = build_record(event_type, source, data, about, event_id, trace_fields(opened[1]))
    else:
        record = build_record(event_type, source, data, about, event_id)
    if about.prepare is not None:
        about.prepare(record)
    scoped = keys.idempotency(source, idempotency_key) if idempotency_key is not None else None
    try:
        if about.span is None:
            accepted = await acceptor.accept(record, scoped, fingerprint)
        elif recorder is not None:
            try:
                accepted = await acceptor.accept(record, scoped, fingerprint)
            except BaseException as error:  # a conflict, Redis down: the request fails
                recorder.end(opened, None, error_status(type(error)))
                raise
            recorder.end(opened, REPLAYED if accepted.replayed else None)
        else:
            with AcceptSpan(record, about.trace_parent, about.span) as span:
                accepted = await acceptor.accept(record, scoped, fingerprint)
                if span is not None and accepted.replayed:  # no worker continues this trace
                    span.set_attribute(REPLAYED_KEY, True)
    except RedisError as error:
        raise QueueUnavailable(error) from error
    return Submitted(record, accepted.event_id, accepted.replayed)
