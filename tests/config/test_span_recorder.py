"""config/span_recorder.py: what the recorder makes the cheaper way is what the SDK makes (span
contexts, the ended span), and a span handed to the batch queue straight is batched, flushed and
refused after shutdown by the provider's own BatchSpanProcessor."""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SynchronousMultiSpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from expbridge.config.span_recorder import UNSET, SpanRecorder
from expbridge.config.tracing import context_from

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
NAME = "POST /v1/events"


def recorder_for(provider: TracerProvider) -> SpanRecorder:
    recorder = SpanRecorder.of(provider)
    assert recorder is not None
    return recorder


@pytest.mark.parametrize(
    "incoming",
    [None, TRACEPARENT, TRACEPARENT[:-2] + "00", TRACEPARENT[:-2] + "03"],
)
@pytest.mark.parametrize("tracestate", [None, "vendor=1,other=2"])
def test_the_span_context_is_the_one_spancontext_makes(
    incoming: str | None, tracestate: str | None
) -> None:
    """Made without SpanContext's constructor (its checks are redundant for drawn ids): equal to
    the one the constructor makes from the same fields, valid, with real TraceFlags."""
    recorder = recorder_for(TracerProvider())
    carrier = {"traceparent": incoming, "tracestate": tracestate} if incoming else None
    parent = context_from({k: v for k, v in (carrier or {}).items() if v})
    _, context, parent_context, _ = recorder.start(NAME, parent)
    remade = SpanContext(
        context.trace_id, context.span_id, False, context.trace_flags, context.trace_state
    )
    assert context == remade and context.is_valid and not context.is_remote
    assert type(context.trace_flags) is TraceFlags
    assert 0 < context.span_id < 2**64 and 0 < context.trace_id < 2**128
    if incoming is None:
        assert parent_context is None
        assert context.trace_flags == TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID
    else:
        assert parent_context is not None and parent_context.is_remote
        assert context.trace_id == int(incoming[3:35], 16)
        assert context.trace_state == parent_context.trace_state
        # The default sampler follows the producer's flag; the random-id bit is kept.
        assert int(context.trace_flags) == int(incoming[-2:], 16)


def test_two_roots_never_share_an_id() -> None:
    recorder = recorder_for(TracerProvider())
    contexts = [recorder.start(NAME, None)[1] for _ in range(1000)]
    assert len({c.trace_id for c in contexts}) == len({c.span_id for c in contexts}) == 1000


def test_the_ended_span_reads_as_the_sdks_readable_span() -> None:
    """Every property (and the SDK's JSON of it) of the recorder's slotted span is that of the
    SDK's own ReadableSpan made from the same fields."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "expbridge-ingress"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorder = recorder_for(provider)
    parent = context_from({"traceparent": TRACEPARENT, "tracestate": "vendor=1"})
    for attributes, status in (
        (None, UNSET),
        ({"http.response.status_code": 503}, Status(StatusCode.ERROR, "unavailable")),
    ):
        recorder.end(recorder.start(NAME, parent, start_ns=10), attributes, status)
    for ours in exporter.get_finished_spans():
        sdk = ReadableSpan(
            name=ours.name,
            context=ours.context,
            parent=ours.parent,
            resource=ours.resource,
            attributes=dict(ours.attributes or {}),
            kind=SpanKind.SERVER,
            status=ours.status,
            start_time=10,
            end_time=ours.end_time,
            instrumentation_scope=ours.instrumentation_scope,
        )
        assert isinstance(ours, ReadableSpan) and vars(ours) == {}  # all in slots or the class
        assert json.loads(ours.to_json()) == json.loads(sdk.to_json())
        assert (ours.events, ours.links, ours.kind) == ((), (), SpanKind.SERVER)
        assert (ours.dropped_attributes, ours.dropped_events, ours.dropped_links) == (0, 0, 0)
        assert ours.resource == provider.resource
        assert ours.get_span_context() == ours.context


def test_spans_go_through_the_providers_batch_processor() -> None:
    """Straight into the BatchSpanProcessor's queue when it is the only processor: batched until
    the provider flushes, refused once the provider is shut down; a processor added later gets
    every span after it (the route is looked at again)."""
    batched = InMemorySpanExporter()
    provider = TracerProvider()
    # A delay no test waits for: only the flush exports.
    provider.add_span_processor(BatchSpanProcessor(batched, schedule_delay_millis=600_000))
    recorder = recorder_for(provider)

    def record() -> int:
        opened = recorder.start(NAME, None)
        recorder.end(opened)
        return opened[1].span_id

    first = record()
    assert batched.get_finished_spans() == ()  # waiting in the batch queue
    assert provider.force_flush()
    assert [s.context.span_id for s in batched.get_finished_spans()] == [first]

    added = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(added))
    second = record()
    assert [s.context.span_id for s in added.get_finished_spans()] == [second]
    assert provider.force_flush()
    assert [s.context.span_id for s in batched.get_finished_spans()] == [first, second]

    provider.shutdown()
    record()
    assert len(batched.get_finished_spans()) == 2 and len(added.get_finished_spans()) == 1


def test_an_unsampled_span_reaches_no_processor() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorder = recorder_for(provider)
    parent = context_from({"traceparent": TRACEPARENT[:-2] + "00"})
    opened = recorder.start(NAME, parent)
    assert not opened[1].trace_flags.sampled
    recorder.end(opened)
    assert exporter.get_finished_spans() == ()


def test_a_full_batch_wakes_the_exporter() -> None:
    """Queued straight, a batch's worth of spans still wakes the batch processor's worker, as
    its own `emit` does: exported with no flush and long before the schedule delay."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter, schedule_delay_millis=600_000, max_export_batch_size=2, max_queue_size=8
        )
    )
    recorder = recorder_for(provider)
    for _ in range(2):
        recorder.end(recorder.start(NAME, None))
    deadline = time.monotonic() + 10
    while len(exporter.get_finished_spans()) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(exporter.get_finished_spans()) == 2
    provider.shutdown()


def test_a_full_queue_or_a_shut_down_one_refuses_as_the_sdk_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A span the queue has no room for, or one after shutdown, goes through the batch
    processor's own `emit`, which counts it in the SDK's processed-spans metric by its error
    type (queue_full: the oldest queued span is dropped for it; already_shutdown)."""
    monkeypatch.setenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    reader = InMemoryMetricReader()
    exporting, release = threading.Event(), threading.Event()

    class Held(InMemorySpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            exporting.set()
            release.wait(10)
            return super().export(spans)

    exporter = Held()
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(
            exporter,
            schedule_delay_millis=600_000,
            max_export_batch_size=2,
            max_queue_size=2,
            meter_provider=MeterProvider(metric_readers=[reader]),
        )
    )
    recorder = recorder_for(provider)
    recorded = [recorder.start(NAME, None) for _ in range(5)]
    for opened in recorded[:2]:
        recorder.end(opened)
    assert exporting.wait(10)  # the worker holds the first two; the queue is empty again
    for opened in recorded[2:]:
        recorder.end(opened)  # the fifth finds the queue full
    release.set()
    assert provider.force_flush()
    exported = [s.context.span_id for s in exporter.get_finished_spans()]
    ids = [opened[1].span_id for opened in recorded]
    assert exported == [ids[0], ids[1], ids[3], ids[4]]  # the third, the oldest queued, dropped
    provider.shutdown()
    recorder.end(recorder.start(NAME, None))
    assert refused(reader) == {"queue_full": 1, "already_shutdown": 1}


def refused(reader: InMemoryMetricReader) -> dict[str, int]:
    """The SDK processor's processed spans that carry an error type, by error type."""
    data = reader.get_metrics_data()
    counts: dict[str, int] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name != "otel.sdk.processor.span.processed":
                    continue
                for point in metric.data.data_points:  # type: ignore[union-attr]
                    error = (point.attributes or {}).get("error.type")
                    if error is not None:
                        counts[str(error)] = counts.get(str(error), 0) + int(point.value)  # type: ignore[union-attr]
    return counts


def test_the_sdk_internals_the_recorder_relies_on() -> None:
    """The provider's processor and the batch processor's queue, private to the SDK
    (opentelemetry-sdk 1.45): this fails first if they move."""
    provider = TracerProvider()
    processor = BatchSpanProcessor(
        InMemorySpanExporter(), max_queue_size=8, max_export_batch_size=4
    )
    provider.add_span_processor(processor)
    multi = provider._active_span_processor
    assert type(multi) is SynchronousMultiSpanProcessor
    assert multi._span_processors == (processor,)
    batch = processor._batch_processor
    assert callable(batch.emit) and batch._shutdown is False
    assert (batch._max_queue_size, batch._max_export_batch_size) == (8, 4)
    assert type(batch._queue) is collections.deque and batch._queue.maxlen == 8
    assert isinstance(batch._worker_awaken, threading.Event)
    provider.shutdown()
    assert batch._shutdown is True
