"""The ingress's accept span: one per accepted event (POST /v1/events), on the hottest path.

With the SDK, a span the usual way (`start_span` … `end`) costs a live `_Span` with four locks,
bounded attribute, event and link containers, processor calls at start and end and a copy
into a `ReadableSpan` at the end: ~14 µs a span, a seventh of an accept. The accept span has
nothing live to offer (it is never made current: nothing under it logs or calls out), so it is
recorded the short way, with the SDK's own pieces: its ids from the provider's id generator,
the decision from the provider's sampler (or, for the default parent-based always-on sampler,
the decision that one always makes, taken once), and at the end one `ReadableSpan` handed to
the provider's span processor, which batches and exports it as any other span. A provider
that is not the SDK's as configured (a test's own) gets spans the usual way. The recording
itself is config/span_recorder.py.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from opentelemetry.context import Context
from opentelemetry.trace import DEFAULT_TRACE_STATE, Span, SpanContext, SpanKind, Status, StatusCode

from expbridge.config.span_recorder import TRACEPARENT_ENDS, UNSET, SpanRecorder
from expbridge.config.tracing import TRACER, tracing_on

__all__ = ["AcceptSpan", "SpanRecorder", "TracedRecord", "refused_span"]


class TracedRecord(Protocol):
    """What the accept span writes on the event's record (events/record.py)."""

    trace_id: str | None
    trace_context: dict[str, str] | None

    def keep_trace(self, trace_id: str, trace_context: dict[str, str]) -> None: ...


class AcceptSpan:
    """The ingress's accept of one event: the producer's trace continued and kept with the
    record (whose trace_id and traceparent the request's log line shows). Nothing at all when
    tracing is off and no trace came in; off with a trace in, the context passes through."""

    __slots__ = (
        "attributes",
        "context",
        "name",
        "parent",
        "parent_context",
        "record",
        "recorder",
        "span",
        "start",
    )

    def __init__(
        self,
        record: TracedRecord,
        parent: Context | None,
        name: str,
        recorder: SpanRecorder | None = None,
    ) -> None:
        self.record, self.parent, self.name, self.recorder = record, parent, name, recorder
        self.attributes: dict[str, Any] | None = None
        self.span: Span | None = None
        self.context: SpanContext | None = None
        # parent_context and start are set by __enter__ with the context, and read only when
        # the context is set: not stored here, two stores less per request.
        self.parent_context: SpanContext | None
        self.start: int

    def is_recording(self) -> bool:
        if self.span is not None:
            return self.span.is_recording()
        return self.context is not None and self.context.trace_flags.sampled

    def set_attribute(self, key: str, value: Any) -> None:
        if self.span is not None:
            self.span.set_attribute(key, value)
        elif self.context is not None:
            self.attributes = {**(self.attributes or {}), key: value}

    def __enter__(self) -> AcceptSpan | None:
        if self.recorder is not None:
            self.start = time.time_ns()
            self.context, self.parent_context = self.recorder.start(self.name, self.parent)
            context = self.context
        elif self.parent is None and not tracing_on():
            return None
        else:
            self.span = TRACER.start_span(self.name, context=self.parent, kind=SpanKind.SERVER)
            context = self.span.get_span_context()
        self._keep(context)
        return self

    def _keep(self, context: SpanContext) -> None:
        # The W3C header, as the propagator writes it (without its context round trip).
        trace_id, span_id, _, flags, trace_state, _ = context
        hex_trace_id = trace_id.to_bytes(16, "big").hex()  # cheaper than format(…, "032x")
        traceparent = (
            f"00-{hex_trace_id}-{span_id.to_bytes(8, 'big').hex()}{TRACEPARENT_ENDS[flags]}"
        )
        carrier = {"traceparent": traceparent}
        # Most have the shared empty default: `is` spares TraceState's Python-level len().
        if trace_state is not DEFAULT_TRACE_STATE and trace_state:
            carrier["tracestate"] = trace_state.to_header()
        self.record.keep_trace(hex_trace_id, carrier)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: Any
    ) -> None:
        # An error (a conflict, Redis down) makes the request answer 4xx/5xx.
        if self.span is not None:
            if kind is not None:
                self.span.set_status(StatusCode.ERROR, kind.__name__)
            self.span.end()
        elif self.recorder is not None and self.context is not None:
            status = Status(StatusCode.ERROR, kind.__name__) if kind is not None else UNSET
            self.recorder.end(
                self.name, self.context, self.parent_context, self.start, self.attributes, status
            )


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
        context, parent_context = recorder.start(name, parent)
        recorder.end(name, context, parent_context, start_ns, attributes, status)
        return context
    if parent is None and not tracing_on():
        return None
    span = TRACER.start_span(
        name, context=parent, kind=SpanKind.SERVER, attributes=attributes, start_time=start_ns
    )
    if status_code >= 500:
        span.set_status(status)
    span.end()
    return span.get_span_context()
