"""Run by tests/config/test_otlp_export.py as a process of its own, so the SDK reads the
OTEL_* environment the test gave it exactly as `expbridge serve` would: tracing configured by
`configure_tracing`, three spans made and flushed to the test's receiver. Prints one JSON line:
the exporter's class, the SDK's own encoding of the same spans, and the exporter's metrics."""

from __future__ import annotations

import json
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode_spans
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from expbridge.config.tracing import configure_tracing

SPANS = 3


def exported_counts(reader: InMemoryMetricReader) -> list[dict[str, Any]]:
    """otel.sdk.exporter.span.exported's points: how many spans, and the error type if any."""
    data = reader.get_metrics_data()
    points = [
        {"value": point.value, "error.type": (point.attributes or {}).get("error.type")}
        for resource_metrics in (data.resource_metrics if data else [])
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
        if metric.name == "otel.sdk.exporter.span.exported"
        for point in metric.data.data_points
    ]
    return points


def main() -> None:
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    assert configure_tracing("expbridge-test")
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    # The SDK keeps its processors private; reading them here (a test) names the exporter.
    processors = provider._active_span_processor._span_processors
    exporter_class = type(processors[0].span_exporter).__name__
    kept = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(kept))
    tracer = trace.get_tracer("expbridge")
    for n in range(SPANS):
        with tracer.start_as_current_span(f"work {n}", attributes={"n": n}):
            pass
    assert provider.force_flush(10_000)
    sdk_body = sdk_encode_spans(kept.get_finished_spans()).SerializeToString()
    print(
        json.dumps(
            {
                "exporter": exporter_class,
                "sdk_body": sdk_body.hex(),
                "exported": exported_counts(reader),
            }
        )
    )


if __name__ == "__main__":
    main()
