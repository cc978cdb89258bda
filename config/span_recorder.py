"""How the accept path's server spans are recorded with the SDK's own pieces, without its live
span (config/accept_span.py says why): a span context made from the provider's id generator
and sampler, and at the end one ReadableSpan handed to the provider's span processor, which
batches and exports it like any other span.

Each piece is the SDK's result made the cheaper way, measured in instructions per request
(bench/accept_instructions.py; docs/tracing.md#how-the-accept-span-is-made): TraceFlags made
once per value, a SpanContext made without re-checking ids valid by construction, both ids of
a root drawn in one call, the ended span a ReadableSpan with slots, and the span handed to the
batch queue straight when the SDK's BatchSpanProcessor is the provider's only processor.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import (
    DEFAULT_TRACE_STATE,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from expbridge.config.tracing import tracing_on


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


# A trace as an event's record keeps it: its trace id (hex), and its traceparent (and
# tracestate, if any) to continue it from.
TraceFields = tuple[str, dict[str, str]]

# A span begun: its name, context, parent's context (None: a root) and start (ns).
OpenSpan = tuple[str, SpanContext, SpanContext | None, int]

# Every TraceFlags value made once: a TraceFlags is an int subclass with a __dict__, so each one
# made is an allocation the garbage collector tracks (the queued spans hold them).
_FLAGS = tuple(TraceFlags(n) for n in range(256))
# What ends a traceparent for each flags value ("-01"), formatted once (config/accept_span.py).
TRACEPARENT_ENDS = tuple(f"-{n:02x}" for n in range(256))
_SPAN_ID_BITS = 64
_SPAN_ID_MASK = (1 << _SPAN_ID_BITS) - 1
_NO_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})
_new_tuple = tuple.__new__
_new_object = object.__new__
# The status of every span that ended well, one object (the OTLP encoder knows it by identity).
UNSET = Status(StatusCode.UNSET)


@functools.cache
def ended_span_base() -> type:
    """The SDK's ReadableSpan for the recorder's spans, with slots: its properties read these
    very names, so exporters and processors see a ReadableSpan like any other. It is made with
    7 slot stores instead of 10 keyword arguments and 13 dictionary entries, and is one object
    for the collector to track instead of two (no __dict__). Made on first use: the SDK is
    not imported while tracing is off. The OTLP encoder knows its spans by it
    (config/otlp_export.py) and reads their fields straight."""
    from opentelemetry.sdk.trace import ReadableSpan

    class EndedSpan(ReadableSpan):
        __slots__ = (
            "_attributes",
            "_context",
            "_end_time",
            "_name",
            "_parent",
            "_start_time",
            "_status",
        )

    return EndedSpan


@functools.cache
def plain_root_base() -> type:
    """The ended spans that are roots with nothing more (no attributes, status UNSET): the
    accept path's usual span. A class of their own so that the OTLP encoder can write a run of
    them in one go (config/otlp_export.py); to everything else, an EndedSpan."""

    class PlainRootSpan(ended_span_base()):  # type: ignore[misc]
        __slots__ = ()

    return PlainRootSpan


def _ended_span_types(resource: Any, scope: Any) -> tuple[type, type]:
    """One recorder's ended spans, and its plain roots: what never changes between them (kind,
    resource, scope, no events or links) is kept on the class."""

    class RecordedServerSpan(ended_span_base()):  # type: ignore[misc]
        __slots__ = ()
        _kind = SpanKind.SERVER
        _resource = resource
        _instrumentation_scope = scope
        _instrumentation_info = None
        _events: tuple[()] = ()
        _links: tuple[()] = ()

    class RecordedPlainRoot(RecordedServerSpan, plain_root_base()):  # type: ignore[misc]
        __slots__ = ()

    return RecordedServerSpan, RecordedPlainRoot


class SpanRecorder:
    """Records server spans straight into the SDK provider's span processor."""

    def __init__(self, provider: Any, processor: Any) -> None:
        from opentelemetry.sdk.trace import SynchronousMultiSpanProcessor
        from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON, DEFAULT_ON
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope

        self.processor = processor
        self.resource = _resource_hashed_once(provider.resource)
        self.scope = InstrumentationScope("expbridge", "", "")  # as the SDK names our tracer
        self.ended_span, self.plain_root = _ended_span_types(self.resource, self.scope)
        self.ids = provider.id_generator
        # The SDK's default generator draws each id from `random.getrandbits`: a root's two ids
        # are drawn in one call (the same uniform bits), any other generator is asked for each.
        self.random_bits = random.getrandbits if type(self.ids) is RandomIdGenerator else None
        self.sampler = provider.sampler
        description = provider.sampler.get_description()
        # Parent-based always-on (the default) samples a root and follows a parent's flag;
        # always-on samples everything. Any other sampler is asked for every span.
        self.follows_parent = description == DEFAULT_ON.get_description()
        self.always = description == ALWAYS_ON.get_description()
        self.random_flag = TraceFlags.RANDOM_TRACE_ID if self.ids.is_trace_id_random() else 0
        sampled = TraceFlags.SAMPLED if self.follows_parent or self.always else 0
        self.root_flags = _FLAGS[self.random_flag | sampled]
        # Where ended spans go: see end() and _only_batch_processor (routed again when the
        # provider's processors change).
        self.multi = processor if type(processor) is SynchronousMultiSpanProcessor else None
        self.routed_for: tuple[Any, ...] | None = None
        self.batch: Any = None

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

    def start(
        self,
        name: str,
        parent: Context | None,
        start_ns: int | None = None,
    ) -> OpenSpan:
        """A span begun now (or at `start_ns`): its name, context, parent's context (None for a
        root) and start, for `end`."""
        if start_ns is None:
            start_ns = time.time_ns()
        parent_context = trace.get_current_span(parent).get_span_context() if parent else None
        if parent_context is not None and not parent_context.is_valid:
            parent_context = None
        random_bits = self.random_bits
        if parent_context is None:
            if random_bits is not None:  # both ids in one draw
                ids = random_bits(128 + _SPAN_ID_BITS)
                trace_id, span_id = ids >> _SPAN_ID_BITS, ids & _SPAN_ID_MASK
            else:
                trace_id, span_id = self.ids.generate_trace_id(), self.ids.generate_span_id()
            trace_state, flags = DEFAULT_TRACE_STATE, self.root_flags
        else:
            trace_id, trace_state = parent_context.trace_id, parent_context.trace_state
            span_id = random_bits(_SPAN_ID_BITS) if random_bits else self.ids.generate_span_id()
            parent_flags = parent_context.trace_flags
            sampled = self.always or (self.follows_parent and parent_flags & TraceFlags.SAMPLED)
            flags = _FLAGS[(parent_flags & TraceFlags.RANDOM_TRACE_ID) | (1 if sampled else 0)]
        if not (trace_id and span_id):  # 0 is no id (1 in 2**64): drawn again, as the SDK does
            trace_id = trace_id or self.ids.generate_trace_id()
            span_id = span_id or self.ids.generate_span_id()
        if not (self.always or self.follows_parent):
            result = self.sampler.should_sample(parent, trace_id, name, SpanKind.SERVER)
            sampled = result.decision.is_sampled()
            flags = _FLAGS[(flags & TraceFlags.RANDOM_TRACE_ID) | (1 if sampled else 0)]
            if (trace_state := result.trace_state) is None:
                trace_state = DEFAULT_TRACE_STATE
        if random_bits is None:  # another generator's ids: checked as the SDK checks them
            context = SpanContext(trace_id, span_id, False, flags, trace_state)
        else:
            # Made as SpanContext's constructor makes it, without its range checks: the ids
            # are valid by making (drawn below 2**128 and 2**64, never 0): is_valid is True.
            made = (trace_id, span_id, False, flags, trace_state, True)
            context = _new_tuple(SpanContext, made)
        return name, context, parent_context, start_ns

    def end(
        self,
        span: OpenSpan,
        attributes: Mapping[str, Any] | None = None,
        status: Status = UNSET,
    ) -> None:
        """The span ended now, handed to the provider's span processor (if sampled)."""
        name, context, parent, start_ns = span
        # A SpanContext is a tuple (trace_id, span_id, is_remote, trace_flags, …): [3] is the
        # flags without the property call.
        if not context[3] & TraceFlags.SAMPLED:
            return
        # Filled here rather than by an __init__: one Python call less per span.
        plain = parent is None and attributes is None and status is UNSET
        ended: Any = _new_object(self.plain_root if plain else self.ended_span)
        ended._name, ended._context, ended._parent = name, context, parent
        ended._attributes, ended._status = attributes or _NO_ATTRIBUTES, status
        ended._start_time, ended._end_time = start_ns, time.time_ns()
        multi = self.multi
        if multi is not None:
            processors = multi._span_processors
            if processors is not self.routed_for:
                self.batch, self.routed_for = _only_batch_processor(processors), processors
            batch = self.batch
            if batch is not None:
                # What its `emit` does for a span it takes, without the call and its process
                # id check (a system call a span; the SDK's own at-fork hook renews the queue's
                # worker in a child). Shut down or full: its `emit` refuses, logs and counts.
                queue = batch._queue
                if batch._shutdown or len(queue) >= batch._max_queue_size:
                    batch.emit(ended)
                    return
                queue.appendleft(ended)
                if len(queue) >= batch._max_export_batch_size:
                    awaken = batch._worker_awaken
                    if not awaken.is_set():
                        awaken.set()
                return
        self.processor.on_end(ended)


def trace_fields(context: SpanContext) -> TraceFields:
    """The trace an event belongs to, as its record keeps it: the trace id, and the W3C headers
    of `context` as the propagator writes them (without its context round trip)."""
    trace_id, span_id, _, flags, trace_state, _ = context
    # Both ids as hex in one go: cheaper than two, or format(…, "032x").
    ids = (trace_id << _SPAN_ID_BITS | span_id).to_bytes(24, "big").hex()
    hex_trace_id = ids[:32]
    carrier = {"traceparent": f"00-{hex_trace_id}-{ids[32:]}{TRACEPARENT_ENDS[flags]}"}
    # Most have the shared empty default: `is` spares TraceState's Python-level len().
    if trace_state is not DEFAULT_TRACE_STATE and trace_state:
        carrier["tracestate"] = trace_state.to_header()
    return hex_trace_id, carrier


def error_status(kind: type[BaseException]) -> Status:
    """The status of a span that ended by an error of this kind."""
    return Status(StatusCode.ERROR, kind.__name__)


def _only_batch_processor(processors: tuple[Any, ...]) -> Any:
    """The SDK's batch processor (its BatchSpanProcessor's `_batch_processor`) when that is the
    provider's one processor (what configure_tracing sets up), else None. The span goes into
    its queue as its `on_end` would put it: the same queue, batching, OTEL_BSP_* settings,
    shutdown and flush, without the calls and property reads on the way (the provider's
    processor calling each of its processors in turn, the batch processor's sampled check,
    made already, and its `emit`)."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if len(processors) == 1 and type(processors[0]) is BatchSpanProcessor:
        return processors[0]._batch_processor
    return None
