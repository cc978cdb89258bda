"""The ingress's accept span: one per accepted event (POST /v1/events), on the hottest path.

With the SDK, a span the usual way (`start_span` … `end`) costs a live `_Span` with four locks,
bounded attribute, event and link containers, processor calls at start and end and a copy
into a `ReadableSpan` at the end: ~14 µs a span, a seventh of an accept. The accept span has
nothing live to offer (it is never made current: nothing under it logs or calls out), so it is
recorded the short way, with the SDK's own pieces: its ids from the provider's id generator,
the decision from the provider's sampler (or, for the default parent-based always-on sampler,
the decision that one always makes, taken once), and at the end one `ReadableSpan` handed to
the provider's span processor, which batches and exports it as any other span. A provider
that is not the SDK's as configured (a test's own) gets spans the usual way.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from expbridge.config.tracing import TRACER, tracing_on


class TracedRecord(Protocol):
    """What the accept span writes on the event's record (events/record.py)."""

    trace_id: str | None
    trace_context: dict[str, str] | None


def _resource_hashed_once(resource: Any) -> Any:
    """The provider's resource, equal to it, whose hash is computed once: the OTLP encoder
    groups a batch's spans by resource, and the SDK's Resource hashes itself anew each time (a
    JSON dump of its attributes: a quarter of the encoder's time per span). A Resource never
    changes, so its hash may be kept."""
    from opentelemetry.sdk.resources import Resource

    hashed = hash(resource)

    class HashedOnce(Resource):
        def __hash__(self) -> int:
            return hashed

    return HashedOnce(resource.attributes, resource.schema_url)


class SpanRecorder:
    """Records server spans straight into the SDK provider's span processor."""

    def __init__(self, provider: Any, processor: Any) -> None:
        from opentelemetry.sdk.trace import ReadableSpan
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON, DEFAULT_ON
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope

        self.readable_span = ReadableSpan
        self.processor = processor
        self.resource = _resource_hashed_once(provider.resource)
        self.ids = provider.id_generator
        self.sampler = provider.sampler
        description = provider.sampler.get_description()
        # Parent-based always-on (the default) samples a root and follows a parent's flag;
        # always-on samples everything. Any other sampler is asked for every span.
        self.follows_parent = description == DEFAULT_ON.get_description()
        self.always = description == ALWAYS_ON.get_description()
        self.scope = InstrumentationScope("expbridge", "", "")  # as the SDK names our tracer
        self.random_flag = TraceFlags.RANDOM_TRACE_ID if self.ids.is_trace_id_random() else 0

    @classmethod
    def of(cls, provider: Any) -> SpanRecorder | None:
        """For an SDK provider; None for any other (one without the SDK's span processor)."""
        processor = getattr(provider, "_active_span_processor", None)
        if processor is None or not hasattr(provider, "sampler"):
            return None
        return cls(provider, processor)

    @classmethod
    def of_current_provider(cls) -> SpanRecorder | None:
        """For the process's provider (None while tracing is off)."""
        return cls.of(trace.get_tracer_provider()) if tracing_on() else None

    def start(self, name: str, parent: Context | None) -> tuple[SpanContext, SpanContext | None]:
        """The new span's context and its parent's (None for a root)."""
        parent_context = trace.get_current_span(parent).get_span_context() if parent else None
        if parent_context is not None and not parent_context.is_valid:
            parent_context = None
        if parent_context is None:
            trace_id, trace_state = self.ids.generate_trace_id(), None
            sampled, flags = self.follows_parent or self.always, self.random_flag
        else:
            trace_id, trace_state = parent_context.trace_id, parent_context.trace_state
            sampled = self.always or (self.follows_parent and parent_context.trace_flags.sampled)
            flags = parent_context.trace_flags & TraceFlags.RANDOM_TRACE_ID
        if not (self.always or self.follows_parent):
            result = self.sampler.should_sample(parent, trace_id, name, SpanKind.SERVER)
            sampled, trace_state = result.decision.is_sampled(), result.trace_state
        context = SpanContext(
            trace_id,
            self.ids.generate_span_id(),
            is_remote=False,
            trace_flags=TraceFlags(flags | (TraceFlags.SAMPLED if sampled else 0)),
            trace_state=trace_state,
        )
        return context, parent_context

    def end(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        start_ns: int,
        attributes: dict[str, Any] | None,
        status: Status,
    ) -> None:
        if not context.trace_flags.sampled:
            return
        span = self.readable_span(
            name=name,
            context=context,
            parent=parent,
            resource=self.resource,
            attributes=attributes or {},
            kind=SpanKind.SERVER,
            status=status,
            start_time=start_ns,
            end_time=time.time_ns(),
            instrumentation_scope=self.scope,
        )
        self.processor.on_end(span)


_UNSET = Status(StatusCode.UNSET)


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
        self.parent_context: SpanContext | None = None
        self.start = 0

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
            context, parent_context = self.recorder.start(self.name, self.parent)
            self.context, self.parent_context = context, parent_context
        elif self.parent is None and not tracing_on():
            return None
        else:
            self.span = TRACER.start_span(self.name, context=self.parent, kind=SpanKind.SERVER)
            context = self.span.get_span_context()
        self._keep(context)
        return self

    def _keep(self, context: SpanContext) -> None:
        trace_id = f"{context.trace_id:032x}"
        # The W3C header, as the propagator writes it (without its context round trip).
        carrier = {"traceparent": f"00-{trace_id}-{context.span_id:016x}-{context.trace_flags:02x}"}
        if context.trace_state:
            carrier["tracestate"] = context.trace_state.to_header()
        self.record.trace_context = carrier
        self.record.trace_id = trace_id

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: Any
    ) -> None:
        # An error (a conflict, Redis down) makes the request answer 4xx/5xx.
        if self.span is not None:
            if kind is not None:
                self.span.set_status(StatusCode.ERROR, kind.__name__)
            self.span.end()
        elif self.recorder is not None and self.context is not None:
            status = Status(StatusCode.ERROR, kind.__name__) if kind is not None else _UNSET
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
    status = _UNSET
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
