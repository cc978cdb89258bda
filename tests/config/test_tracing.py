"""config/tracing.py: on only with an OTLP endpoint, W3C context in and out, ids on log lines."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from expbridge.config.accept_span import REPLAYED, AcceptSpan, SpanRecorder, trace_fields
from expbridge.config.logging import configure_logging
from expbridge.config.tracing import (
    configure_tracing,
    context_from,
    current_carrier,
    tracing_on,
    tracing_wanted,
)
from expbridge.events.record import EventRecord

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}


@pytest.mark.parametrize(
    ("env", "wanted"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on"}, False),
        (ENDPOINT, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/v1/traces"}, True),
        ({**ENDPOINT, "OTEL_SDK_DISABLED": "true"}, False),
        ({**ENDPOINT, "OTEL_TRACES_EXPORTER": "none"}, False),
    ],
)
def test_on_only_with_an_endpoint(env: dict[str, str], wanted: bool) -> None:
    assert tracing_wanted(env) is wanted


def test_unset_or_unsupported_leaves_the_no_op_tracer() -> None:
    assert configure_tracing("expbridge-test", {}) is False
    grpc = {**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}
    assert configure_tracing("expbridge-test", grpc) is False
    assert not tracing_on()
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


@pytest.mark.parametrize(
    "carrier",
    [
        None,
        {},
        {"traceparent": "garbage"},
        {"traceparent": 7},
        {"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"},
    ],
)
def test_no_or_malformed_context_is_none(carrier: Any) -> None:
    assert context_from(carrier) is None


def test_context_round_trips_with_tracestate() -> None:
    context = context_from({"traceparent": TRACEPARENT, "tracestate": "vendor=1"})
    assert context is not None
    span = trace.NonRecordingSpan(trace.get_current_span(context).get_span_context())
    with trace.use_span(span):
        assert current_carrier() == {"traceparent": TRACEPARENT, "tracestate": "vendor=1"}
    assert current_carrier() is None


def test_log_lines_carry_the_active_span(capsys: pytest.CaptureFixture[str]) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # local: the process's global provider stays unset
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        configure_logging("json", "INFO")
        log = structlog.get_logger("expbridge.test")
        with provider.get_tracer("test").start_as_current_span("work") as span:
            log.info("inside")
            logging.getLogger("arq.worker").info("stdlib inside")
        log.info("outside")
        lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        context = span.get_span_context()
        ids = (trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id))
        assert [(x.get("trace_id"), x.get("span_id")) for x in lines] == [ids, ids, (None, None)]
        assert [s.name for s in exporter.get_finished_spans()] == ["work"]
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()


def test_off_the_accept_keeps_the_producers_context_as_it_came() -> None:
    record = EventRecord(id="evt_1", type="experiment.start", source="s", target="qonversion:x")
    carrier = {"traceparent": TRACEPARENT, "tracestate": "vendor=1,other=2"}
    with AcceptSpan(record, context_from(carrier), "POST /v1/events") as span:
        assert span is not None and not span.is_recording()
    assert record.trace_context == carrier
    assert record.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    untraced = EventRecord(id="evt_2", type="experiment.start", source="s", target="q:x")
    with AcceptSpan(untraced, None, "POST /v1/events") as span:
        assert span is None  # off and nothing came in: no span at all
    assert (untraced.trace_context, untraced.trace_id) == (None, None)
    structlog.contextvars.clear_contextvars()


@pytest.mark.parametrize("sampler", [None, "always_on", "traceidratio"])
@pytest.mark.parametrize("incoming", [None, TRACEPARENT, TRACEPARENT[:-2] + "00"])
def test_the_accept_span_recorded_straight_is_the_span_the_sdk_makes(
    sampler: str | None, incoming: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The accept span skips the SDK's live span (config/accept_span.py): what reaches the
    exporter, and what the record keeps, is what the SDK's own start_span and end give, for
    the default sampler, always-on, and one the recorder must ask (a ratio of 1)."""
    if sampler is not None:
        monkeypatch.setenv("OTEL_TRACES_SAMPLER", sampler)
        monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "1.0")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()  # local: the process's global provider stays unset
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorder = SpanRecorder.of(provider)
    assert recorder is not None
    parent = context_from({"traceparent": incoming}) if incoming else None
    straight = EventRecord(id="evt_1", type="experiment.start", source="s", target="q:x")
    opened = recorder.start("POST /v1/events", parent)
    straight.keep_trace(*trace_fields(opened[1]))
    recorder.end(opened, REPLAYED)
    sdk_span = provider.get_tracer("expbridge").start_span(
        "POST /v1/events", context=parent, kind=trace.SpanKind.SERVER
    )
    sdk_span.set_attribute("expbridge.idempotent_replay", True)
    sdk_span.end()
    exported = exporter.get_finished_spans()
    # Parent-based (the default) follows the producer's flag; the other two sample it all.
    sampled = sampler is not None or incoming is None or incoming.endswith("01")
    assert len(exported) == (2 if sampled else 0)
    assert straight.trace_context is not None and straight.trace_id is not None
    flags = straight.trace_context["traceparent"][-2:]
    assert flags == f"{sdk_span.get_span_context().trace_flags:02x}"
    if incoming:
        assert straight.trace_id == incoming[3:35]
    if sampled:
        ours, theirs = exported
        for span in (ours, theirs):
            assert span.kind == trace.SpanKind.SERVER and span.name == "POST /v1/events"
        assert ours.context.span_id == int(straight.trace_context["traceparent"][36:52], 16)
        assert dict(ours.attributes or {}) == dict(theirs.attributes or {})
        assert ours.parent == theirs.parent and ours.resource == theirs.resource
        assert ours.instrumentation_scope == theirs.instrumentation_scope
        assert ours.start_time is not None and ours.end_time is not None
        assert ours.start_time <= ours.end_time
        assert ours.status.status_code == theirs.status.status_code
