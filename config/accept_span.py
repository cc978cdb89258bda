"""The ingress's accept span: one per accepted event (POST /v1/events), on the hottest path.

With the SDK, a span the usual way (`start_span` … `end`) costs a live `_Span` with four locks,
bounded attribute, event and link containers, processor calls at start and end and a copy
into a `ReadableSpan` at the end: ~14 µs a span, a seventh of an accept. The accept span has
nothing live to offer (it is never made current: nothing under it logs or calls out), so with
the SDK's provider it is recorded the short way (config/span_recorder.py): `start` draws its
context (whose `trace_fields` the record is built with), `end` hands one `ReadableSpan` to
the provider's span processor, which batches and exports it as any other span;
events/store/submit.py calls the two around the accept. A provider that is not the SDK's as
configured (a test's own), or tracing off with a producer's trace to pass on, gets an
`AcceptSpan`: the span the usual way.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Protocol

from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanContext, SpanKind, Status, StatusCode

from expbridge.config.span_recorder import (
    UNSET,
    OpenSpan,
    SpanRecorder,
    TraceFields,
    error_status,
    trace_fields,
)
from expbridge.config.tracing import TRACER, tracing_on

__all__ = [
    "REPLAYED",
    "REPLAYED_KEY",
    "AcceptSpan",
    "OpenSpan",
    "SpanRecorder",
    "TraceFields",
    "TracedRecord",
    "error_status",
    "refused_span",
    "trace_fields",
]


class TracedRecord(Protocol):
    """What the accept span writes on the event's record (events/record.py)."""

    trace_id: str | None
    trace_context: dict[str, str] | None

    def keep_trace(self, trace_id: str, trace_context: dict[str, str]) -> None: ...


# What an accept answered as a replay says (no worker continues its trace).
REPLAYED_KEY = "expbridge.idempotent_replay"
REPLAYED: Any = MappingProxyType({REPLAYED_KEY: True})


class AcceptSpan:
    """The ingress's accept of one event through the tracer (no SDK recorder): the producer's
    trace continued and kept with the record (whose trace_id and traceparent the request's log
    line shows). Nothing at all when tracing is off and no trace came in; off with a trace in,
    the context passes through."""

    __slots__ = ("name", "parent", "record", "span")

    def __init__(self, record: TracedRecord, parent: Context | None, name: str) -> None:
        self.record, self.parent, self.name = record, parent, name
        self.span: Span | None = None

    def is_recording(self) -> bool:
        return self.span is not None and self.span.is_recording()

    def set_attribute(self, key: str, value: Any) -> None:
        if self.span is not None:
            self.span.set_attribute(key, value)

    def __enter__(self) -> AcceptSpan | None:
        if self.parent is None and not tracing_on():
            return None
        self.span = TRACER.start_span(self.name, context=self.parent, kind=SpanKind.SERVER)
        self.record.keep_trace(*trace_fields(self.span.get_span_context()))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: Any
    ) -> None:
        # An error (a conflict, Redis down) makes the request answer 4xx/5xx.
        if self.span is not None:
            if kind is not None:
                self.span.set_status(error_status(kind))
            self.span.end()


def refused_span(
    recorder: SpanRecorder | None,
    name: str,
    parent: Context | None,
    start_ns: int,
    status_code: int,
    problem: str,
) -> SpanContext | None:
    """A request refused before an event was accepted (401, 415, 422, 503, …): a server span
    with its status code and problem; a 5xx is an error (the HTTP semantic conventions' rule
    for servers: a 4xx is the client's, not the server's). Tracing on, or a trace sent in.
    The span's context, for the request's log line (None: no span)."""
    attributes: dict[str, Any] = {
        "http.response.status_code": status_code,
        "expbridge.problem": problem,
    }
    status = UNSET
    if status_code >= 500:
        attributes["error.type"] = str(status_code)
        status = Status(StatusCode.ERROR, problem)
    if recorder is not None:
        opened = recorder.start(name, parent, start_ns=start_ns)
        recorder.end(opened, attributes, status)
        return opened[1]
    if parent is None and not tracing_on():
        return None
    span = TRACER.start_span(
        name, context=parent, kind=SpanKind.SERVER, attributes=attributes, start_time=start_ns
    )
    if status_code >= 500:
        span.set_status(status)
    span.end()
    return span.get_span_context()
