"""config/otlp_export.py: the in-place encoder gives the SDK's OTLP request field for field, and
the exporter is the SDK's OTLP/HTTP exporter in all but the encoding (posting to a real
receiver on loopback: headers, compression, refusals, size limit, shutdown, metrics)."""

from __future__ import annotations

import asyncio
import enum
import json
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from expbridge.config.accept_span import SpanRecorder, refused_span
from expbridge.config.otlp_export import OtlpSpanExporter, encode_spans
from expbridge.config.tracing import context_from
from tests.config.otlp_export_child import SPANS
from tests.otlp_receiver import OtlpReceiver

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
HAS_IS_REMOTE, IS_REMOTE = 0x100, 0x200  # the OTLP SpanFlags bits


class Provider(enum.StrEnum):
    QONVERSION = "qonversion"


class Attempt(enum.IntEnum):
    FIRST = 1


def every_attribute_type() -> dict[str, object]:
    return {
        "str": "text",
        "bool": True,
        "int": -42,
        "int64.max": 2**63 - 1,
        "float": 0.25,
        "bytes": b"\x00\xff",
        "str[]": ["a", "b"],
        "bool[]": [True, False],
        "int[]": [1, 2, 3],
        "float[]": [1.5, -0.0],
        "empty[]": [],
        "mixed[]": [1, "a", None, 2.5],
        "none": None,
        "map": {"k": "v", "n": 1, "inner": {"list": [1, "y"]}},
        "str subclass": Provider.QONVERSION,
        "int subclass": Attempt.FIRST,
    }


def varied_spans() -> list[ReadableSpan]:
    """Real SDK spans, as a batch processor would hand them over, in the order they ended:
    two providers (resources with and without a schema URL; one with small limits so counts
    are dropped), scopes with and without version, attributes and schema URL, roots, local and
    remote parents with trace state, every kind, events, links, every status; then the accept
    path's own spans (config/accept_span.py) and spans built directly, with no scope and with
    attributes the SDK cannot encode."""
    ended = InMemorySpanExporter()
    limits = SpanLimits(
        max_span_attributes=len(every_attribute_type()),
        max_events=2,
        max_links=2,
        max_event_attributes=2,
        max_link_attributes=1,
    )
    ingress = TracerProvider(
        resource=Resource.create(
            {"service.name": "expbridge-ingress", "deployment.environment": "test"},
            schema_url="https://opentelemetry.io/schemas/1.26.0",
        ),
        span_limits=limits,
    )
    worker = TracerProvider(resource=Resource({"service.name": "expbridge-worker"}))
    for provider in (ingress, worker):
        provider.add_span_processor(SimpleSpanProcessor(ended))
    plain = ingress.get_tracer("expbridge")
    versioned = ingress.get_tracer(
        "expbridge.steps",
        "1.2.3",
        schema_url="https://opentelemetry.io/schemas/1.21.0",
        attributes={"scope.role": "ingress", "scope.n": 2},
    )
    workers = worker.get_tracer("expbridge", "0.1.0")
    remote_parent = context_from({"traceparent": TRACEPARENT, "tracestate": "vendor=1,other=2"})
    remote_context = trace.get_current_span(remote_parent).get_span_context()

    root = plain.start_span("POST /v1/events", kind=SpanKind.SERVER)
    root.set_attributes(every_attribute_type())
    root.set_attribute("over the limit", "dropped")  # the oldest is dropped to make room
    root.add_event("first: over the limit")  # the oldest is dropped to make room
    root.add_event("second", timestamp=1_700_000_000_000_000_000)
    root.add_event("retry", {"delay_s": 0.035, "http.response.status_code": 503, "extra": "x"})
    root.set_status(Status(StatusCode.ERROR, "Simulated upstream error 503"))
    child = versioned.start_span(
        "step qonversion.set_status",
        context=trace.set_span_in_context(root),
        links=[
            Link(remote_context),  # over the limit: the SDK keeps the last ones
            Link(root.get_span_context()),
            Link(remote_context, {"link.kind": "follows", "over": "the limit"}),
        ],
    )
    child.set_status(Status(StatusCode.OK))
    from_producer = plain.start_span("POST /v1/events", context=remote_parent, kind=SpanKind.SERVER)
    client = workers.start_span("POST /qonversion/v4/experiments/{experiment_id}/status")
    for kind in (SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.INTERNAL):
        with workers.start_as_current_span(f"{kind.name.lower()} span", kind=kind) as span:
            span.set_attributes({"expbridge.attempt": 2, "expbridge.provider": "qonversion"})
    try:
        raise RuntimeError("upstream unreachable")
    except RuntimeError as error:
        client.record_exception(error)
    # Ended in an interleaved order: the groups are made by first appearance, spans kept in
    # batch order within them.
    for span in (child, client, from_producer, root):
        span.end()

    recorder = SpanRecorder.of(ingress)
    assert recorder is not None
    for parent in (None, remote_parent):
        opened = recorder.start("POST /v1/events", parent, start_ns=1)
        replayed = {"expbridge.idempotent_replay": True}
        recorder.end(opened, replayed, Status(StatusCode.UNSET))
    refused_span(recorder, "POST /v1/events", remote_parent, 1, 503, "unavailable")

    direct = SpanContext(0x1234, 0x5678, is_remote=False, trace_flags=TraceFlags(1))
    built = [
        ReadableSpan(
            name="built directly",
            context=direct,
            parent=remote_context,
            resource=Resource({"service.name": "direct"}),
            attributes={"too big for int64": 2**70, "ok": "kept", "not a value": object()},
            events=[Event("event", {"n": 1}, timestamp=5)],
            links=[Link(remote_context, {"k": "v"})],
            kind=SpanKind.CONSUMER,
            status=Status(StatusCode.ERROR),
            start_time=1,
            end_time=2,
        ),
        ReadableSpan(
            name="no scope, no status",
            context=direct,
            resource=Resource({}),  # a resource without attributes
            instrumentation_scope=None,
            status=None,  # type: ignore[arg-type]
            start_time=3,
            end_time=4,
        ),
        ReadableSpan(
            name="a scope equal to the provider's",
            context=direct,
            resource=ingress.resource,
            instrumentation_scope=InstrumentationScope("expbridge", None, None),
            start_time=5,
            end_time=6,
        ),
    ]
    return [*ended.get_finished_spans(), *built]


def all_attributes(request: ExportTraceServiceRequest) -> list[KeyValue]:
    pairs = []
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                pairs += [*span.attributes, *(a for e in span.events for a in e.attributes)]
                pairs += [a for link in span.links for a in link.attributes]
    return pairs


def test_the_batch_covers_what_the_encoder_must_encode() -> None:
    """The SDK's own request for the batch has every field the comparison below relies on:
    were one missing, the equality would prove nothing about it."""
    request = sdk_encode_spans(varied_spans())
    resources = request.resource_spans
    spans = [span for r in resources for s in r.scope_spans for span in s.spans]
    scopes = [s for r in resources for s in r.scope_spans]
    assert len(resources) == 4 and any(len(r.scope_spans) > 1 for r in resources)
    assert any(r.schema_url for r in resources) and any(s.schema_url for s in scopes)
    assert any(not r.resource.attributes for r in resources)
    assert any(s.scope.version and s.scope.attributes for s in scopes)
    assert any(not s.scope.name for s in scopes)  # the span without a scope
    assert {span.kind for span in spans} == {1, 2, 3, 4, 5}
    assert {span.flags for span in spans} == {HAS_IS_REMOTE, HAS_IS_REMOTE | IS_REMOTE}
    assert {link.flags for span in spans for link in span.links} == {
        HAS_IS_REMOTE,
        HAS_IS_REMOTE | IS_REMOTE,
    }
    assert any(span.trace_state == "vendor=1,other=2" for span in spans)
    assert any(span.parent_span_id for span in spans) and any(not s.parent_span_id for s in spans)
    assert {span.status.code for span in spans} == {0, 1, 2}
    assert any(span.status.message for span in spans)
    assert not all(span.HasField("status") for span in spans)  # status=None
    assert all(
        any(getattr(span, field) for span in spans)
        for field in ("dropped_attributes_count", "dropped_events_count", "dropped_links_count")
    )
    assert any(e.dropped_attributes_count for span in spans for e in span.events)
    assert any(link.dropped_attributes_count for span in spans for link in span.links)
    kinds = {pair.value.WhichOneof("value") for pair in all_attributes(request)}
    assert kinds == {
        "string_value",
        "bool_value",
        "int_value",
        "double_value",
        "bytes_value",
        "array_value",
        "kvlist_value",
        None,  # a None attribute
    }
    keys = {pair.key for pair in all_attributes(request)}
    assert "ok" in keys and "too big for int64" not in keys and "not a value" not in keys


def test_the_encoder_gives_the_sdks_request() -> None:
    spans = varied_spans()
    ours, sdk = encode_spans(spans), sdk_encode_spans(spans)
    assert ours == sdk
    assert ours.SerializeToString() == sdk.SerializeToString()
    assert ExportTraceServiceRequest.FromString(ours.SerializeToString()) == sdk
    for one in spans:  # and span by span (each its own group)
        assert encode_spans([one]) == sdk_encode_spans([one])
    assert encode_spans([]) == sdk_encode_spans([])


def test_the_encoder_groups_by_equal_resources_not_by_the_same_object() -> None:
    """The accept path's spans carry a copy of the provider's resource (hashed once): one
    group with the provider's own spans, as the SDK's dictionaries make it."""
    provider = TracerProvider(resource=Resource({"service.name": "expbridge-ingress"}))
    ended = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(ended))
    recorder = SpanRecorder.of(provider)
    assert recorder is not None
    for n in range(4):
        if n % 2:
            provider.get_tracer("expbridge").start_span("slack /exp").end()
        else:
            opened = recorder.start("POST /v1/events", None, start_ns=1)
            recorder.end(opened, None, Status(StatusCode.UNSET))
    spans = ended.get_finished_spans()
    assert spans[0].resource is not spans[1].resource
    request = encode_spans(spans)
    assert request == sdk_encode_spans(spans)
    assert [len(s.spans) for r in request.resource_spans for s in r.scope_spans] == [4]


@pytest.fixture
async def receiver() -> AsyncIterator[OtlpReceiver]:
    receiver = await OtlpReceiver().start()
    yield receiver
    await receiver.close()


def exporter_to(receiver: OtlpReceiver, **options: int) -> OtlpSpanExporter:
    return OtlpSpanExporter(endpoint=f"{receiver.endpoint}/v1/traces", timeout=5, **options)


async def export(exporter: OtlpSpanExporter, spans: Sequence[ReadableSpan]) -> SpanExportResult:
    # The exporter blocks (as in the batch processor's thread); the receiver runs in this loop.
    return await asyncio.to_thread(exporter.export, spans)


async def test_the_exporter_posts_the_sdks_request(receiver: OtlpReceiver) -> None:
    spans = varied_spans()
    exporter = exporter_to(receiver)
    assert await export(exporter, spans) is SpanExportResult.SUCCESS
    [received] = receiver.exports
    assert received.headers["content-type"] == "application/x-protobuf"
    assert ExportTraceServiceRequest.FromString(received.body) == sdk_encode_spans(spans)
    assert len(receiver.spans) == len(spans)
    exporter.shutdown()


async def test_a_collector_refusing_the_batch_is_a_failure(receiver: OtlpReceiver) -> None:
    receiver.answer_status = 400  # not retryable: one POST, then FAILURE
    exporter = exporter_to(receiver)
    assert await export(exporter, varied_spans()[:2]) is SpanExportResult.FAILURE
    assert len(receiver.exports) == 1 and receiver.spans == []
    exporter.shutdown()


async def test_a_batch_over_the_size_limit_is_dropped_unsent(receiver: OtlpReceiver) -> None:
    spans = varied_spans()
    size = len(sdk_encode_spans(spans).SerializeToString())
    exporter = exporter_to(receiver, max_request_size=size - 1)
    assert await export(exporter, spans) is SpanExportResult.FAILURE
    assert receiver.exports == []
    exporter = exporter_to(receiver, max_request_size=size)  # at the limit: sent
    assert await export(exporter, spans) is SpanExportResult.SUCCESS
    exporter = exporter_to(receiver, max_request_size=0)  # 0: no limit (the SDK's rule)
    assert await export(exporter, spans) is SpanExportResult.SUCCESS
    assert len(receiver.exports) == 2


async def test_a_shut_down_exporter_sends_nothing(receiver: OtlpReceiver) -> None:
    exporter = exporter_to(receiver)
    exporter.shutdown()
    assert await export(exporter, varied_spans()) is SpanExportResult.FAILURE
    assert receiver.exports == []


def test_the_sdk_internals_the_exporter_relies_on() -> None:
    """OtlpSpanExporter.export uses what the SDK's OTLPSpanExporter.__init__ sets up, private to
    the SDK (opentelemetry-exporter-otlp-proto-http >= 1.45): this fails first if they move."""
    sdk = OTLPSpanExporter(endpoint="http://127.0.0.1:1/v1/traces", max_request_size=1234)
    assert sdk._shutdown is False
    assert sdk._max_request_size == 1234
    assert callable(sdk._client.export) and callable(sdk._client.shutdown)
    assert callable(sdk._metrics.export_operation)
    with sdk._metrics.export_operation(1) as result:
        assert hasattr(result, "error") and hasattr(result, "error_attrs")
    sdk.shutdown()
    assert sdk._shutdown is True
    assert issubclass(OtlpSpanExporter, OTLPSpanExporter)


async def test_configured_from_the_environment_as_the_sdk_reads_it(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    """`configure_tracing` in a process of its own (tests/config/otlp_export_child.py), set up
    by OTEL_* variables only: our exporter posts to the endpoint, with the headers and the
    compression they name, the body the SDK's encoder would give, and counts its exports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_EXPORTER_OTLP_HEADERS="x-collector-key=test-collector-key,x-tenant=growth",
        OTEL_EXPORTER_OTLP_COMPRESSION="gzip",
        OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED="true",
        OTEL_BSP_SCHEDULE_DELAY="60000",  # one batch, at the flush
    )
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.config.otlp_export_child",
        env=env,
        cwd=Path(__file__).parents[2],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, err.decode()
    report = json.loads(out.decode().splitlines()[-1])
    assert report["exporter"] == OtlpSpanExporter.__name__
    [received] = receiver.exports
    assert received.headers["x-collector-key"] == "test-collector-key"
    assert received.headers["x-tenant"] == "growth"
    assert received.headers["content-encoding"] == "gzip"
    assert received.body == bytes.fromhex(report["sdk_body"])
    assert [span.name for span in receiver.spans] == [f"work {n}" for n in range(SPANS)]
    assert {span.service for span in receiver.spans} == {"expbridge-test"}
    assert report["exported"] == [{"value": SPANS, "error.type": None}]
