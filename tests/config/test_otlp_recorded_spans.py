"""config/otlp_export.py's request bytes: the SDK's serialized request, byte for byte, for the
accept path's recorded spans written field by field (every shape it writes that way), for the
ones it leaves to their message, and for a batch of every kind of span."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from expbridge.config.otlp_export import encode_request
from expbridge.config.otlp_recorded_spans import plain_roots, recorded_span
from expbridge.config.span_recorder import UNSET, SpanRecorder
from expbridge.config.tracing import context_from
from tests.config.test_otlp_export import TRACEPARENT, varied_spans

NAME = "POST /v1/events"
# Each written field by field: attributes of every type it writes, at their edges, and statuses.
WRITTEN_DIRECTLY: list[tuple[dict[str, Any] | None, Status]] = [
    (None, UNSET),
    ({"expbridge.idempotent_replay": True}, UNSET),
    ({"false": False, "zero": 0, "empty": "", "0.0": 0.0}, UNSET),
    ({"int64.min": -(2**63), "int64.max": 2**63 - 1, "negative": -42, "big": 300}, UNSET),
    ({"float": -0.25, "text": "é ✓ 𝄞", "x" * 200: "y" * 300}, UNSET),
    ({"http.response.status_code": 503, "error.type": "503"}, Status(StatusCode.ERROR, "down")),
    (None, Status(StatusCode.ERROR)),
    (None, Status(StatusCode.OK)),
    (None, Status(StatusCode.UNSET)),  # not the shared one
]
# Left to the message path: what the direct writer does not write the same way.
THROUGH_THE_MESSAGE: list[dict[str, Any]] = [
    {"list": ["a", "b"]},
    {"int beyond 64 bits": 2**64},  # dropped (and logged), as the SDK drops it
    {"": "an empty key"},
    {"bytes": b"\x00"},
]


def recorded(
    cases: list[tuple[dict[str, Any] | None, Status]], name: str = NAME, start: int = 1
) -> list[ReadableSpan]:
    """The spans the recorder makes, for roots and for a producer's child with a tracestate."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "expbridge-ingress"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorder = SpanRecorder.of(provider)
    assert recorder is not None
    parents = (None, context_from({"traceparent": TRACEPARENT, "tracestate": "vendor=1,o=2"}))
    for parent in parents:
        for attributes, status in cases:
            recorder.end(recorder.start(name, parent, start_ns=start), attributes, status)
    return list(exporter.get_finished_spans())


def sdk_bytes(spans: list[ReadableSpan]) -> bytes:
    return sdk_encode_spans(spans).SerializeToString()


def test_recorded_spans_written_directly_are_the_sdks_bytes() -> None:
    spans = recorded(WRITTEN_DIRECTLY) + recorded([(None, UNSET)], name="POST /v1/ëvents")
    assert all(recorded_span(span) is not None for span in spans)  # the direct way, each
    assert encode_request(spans) == sdk_bytes(spans)
    for span in spans:
        assert encode_request([span]) == sdk_bytes([span])


@pytest.mark.parametrize("attributes", THROUGH_THE_MESSAGE)
def test_recorded_spans_it_cannot_write_directly_are_the_sdks_bytes(
    attributes: dict[str, Any],
) -> None:
    spans = recorded([(attributes, UNSET)])
    assert all(recorded_span(span) is None for span in spans)
    assert encode_request(spans) == sdk_bytes(spans)


def test_a_span_without_a_start_time_goes_through_its_message() -> None:
    spans = recorded([(None, UNSET)], start=0)
    assert all(recorded_span(span) is None for span in spans)
    assert encode_request(spans) == sdk_bytes(spans)


def test_a_batch_of_every_kind_of_span_is_the_sdks_bytes() -> None:
    """SDK spans of several resources and scopes with the recorder's, interleaved: one group
    per equal resource and scope, in the order they first appear."""
    spans = varied_spans()
    spans[1:1] = recorded(WRITTEN_DIRECTLY[:3])
    assert encode_request(spans) == sdk_bytes(spans)
    assert encode_request([]) == sdk_bytes([]) == b""


def test_a_run_of_plain_roots_is_written_in_one_go_as_the_sdks_bytes() -> None:
    """The recorder's usual span (a root, no attributes, status UNSET) in runs, as a busy
    ingress's batch holds them; a run whose names differ is written span by span."""
    roots = recorded([(None, UNSET)] * 5)[:5]
    other = recorded([(None, UNSET)], name="POST %b /v1/ëvents 100%")[:1]  # `%` is escaped
    assert plain_roots(roots) is not None and plain_roots(roots + other) is None
    children = recorded([(None, UNSET)])[1:]  # a producer's child: not a plain root
    assert plain_roots(other) is not None
    for batch in (roots, roots + other, [*roots[:2], *children, *roots[2:]], other + roots):
        assert encode_request(batch) == sdk_bytes(batch)
