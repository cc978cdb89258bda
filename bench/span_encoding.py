"""What encoding one batch of spans for OTLP costs: the SDK's encoder
(`encode_spans(spans).SerializePartialToString()`, what its OTLPSpanExporter runs) against ours
(config/otlp_export.py's `encode_request`, the bytes our exporter posts), on the same batches
of 512 spans (OTEL_BSP_MAX_EXPORT_BATCH_SIZE's default), in alternating order, several rounds.
CPU time of this thread, per span.

  accept  the ingress's spans as config/accept_span.py records them: half roots, half under a
          producer's sampled traceparent with a tracestate; 1 in 16 an idempotent replay
          (one attribute), 1 in 32 a request refused with 422 (two attributes)
  worker  spans as the worker's tracer makes them: `attempt` (8 attributes, a `retry` event on
          1 in 4), `step` under it (3 attributes), an upstream request under that (6)

Seconds to run; no server, no load (the whole-path figure is bench/tracing_overhead.py's).

    .venv/bin/python -m bench.span_encoding [--rounds 7] [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence

from google.protobuf.internal import api_implementation
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as sdk_encode_spans
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from expbridge.config.accept_span import SpanRecorder, refused_span
from expbridge.config.otlp_export import encode_request
from expbridge.config.tracing import context_from

BATCH = 512


def provider_as_configured(service_name: str) -> tuple[TracerProvider, InMemorySpanExporter]:
    """A provider with configure_tracing's resource; its spans kept in memory."""
    resource = Resource.create().merge(Resource({SERVICE_NAME: service_name}))
    provider = TracerProvider(resource=resource)
    ended = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(ended))
    return provider, ended


def accept_batch() -> Sequence[ReadableSpan]:
    provider, ended = provider_as_configured("expbridge-ingress")
    recorder = SpanRecorder.of(provider)
    assert recorder is not None
    name, unset = "POST /v1/events", Status(StatusCode.UNSET)
    for n in range(BATCH):
        carrier = {
            "traceparent": f"00-{n + 1:032x}-00f067aa0ba902b7-01",
            "tracestate": "vendor=1",
        }
        parent = context_from(carrier) if n % 2 else None
        start = time.time_ns()
        if n % 32 == 31:
            refused_span(recorder, name, parent, start, 422, "validation")
            continue
        attributes = {"expbridge.idempotent_replay": True} if n % 16 == 15 else None
        recorder.end(recorder.start(name, parent, start_ns=start), attributes, unset)
    return ended.get_finished_spans()


def worker_batch() -> Sequence[ReadableSpan]:
    provider, ended = provider_as_configured("expbridge-worker")
    tracer = provider.get_tracer("expbridge")
    n = 0
    while len(ended.get_finished_spans()) < BATCH:  # three spans an attempt
        n += 1
        with tracer.start_as_current_span("attempt experiment.start", kind=SpanKind.CONSUMER) as a:
            a.set_attributes(
                {
                    "expbridge.event.id": f"evt_{n:020d}",
                    "expbridge.event.type": "experiment.start",
                    "expbridge.target": f"qonversion:exp_{n}",
                    "expbridge.attempt": 1,
                    "expbridge.dispatch": "queue",
                    "expbridge.event.status": "succeeded",
                    "messaging.operation.type": "process",
                    "messaging.message.id": f"evt_{n:020d}",
                }
            )
            if n % 4 == 0:
                a.add_event(
                    "retry", {"expbridge.retry.delay_s": 0.035, "expbridge.retry.reason": "503"}
                )
            with tracer.start_as_current_span("step qonversion.set_status") as step:
                step.set_attributes(
                    {
                        "expbridge.step": "set_status",
                        "expbridge.provider": "qonversion",
                        "expbridge.step.attempt": 1,
                    }
                )
                with tracer.start_as_current_span(
                    "POST /qonversion/v4/experiments/{experiment_id}/status", kind=SpanKind.CLIENT
                ) as request:
                    request.set_attributes(
                        {
                            "http.request.method": "POST",
                            "url.template": "/qonversion/v4/experiments/{experiment_id}/status",
                            "server.address": "api.qonversion.io",
                            "server.port": 443,
                            "http.response.status_code": 200,
                            "expbridge.provider": "qonversion",
                        }
                    )
    return ended.get_finished_spans()[:BATCH]


def cpu_us_per_span(encode: Callable[[], bytes], repeats: int) -> float:
    """The median CPU time of `repeats` encodings of the batch, per span."""
    times = []
    for _ in range(repeats):
        started = time.thread_time_ns()
        encode()
        times.append(time.thread_time_ns() - started)
    return statistics.median(times) / BATCH / 1e3


def compare(label: str, spans: Sequence[ReadableSpan], rounds: int, repeats: int) -> None:
    # Only equal requests are compared (tests/config/test_otlp_export.py checks it in depth).
    assert encode_request(spans) == sdk_encode_spans(spans).SerializeToString(), "they disagree"
    encoders = {
        "sdk": lambda: sdk_encode_spans(spans).SerializePartialToString(),
        "ours": lambda: encode_request(spans),  # the request's bytes, as the exporter posts
    }
    figures: dict[str, list[float]] = {name: [] for name in encoders}
    for n in range(rounds):
        order = list(encoders) if n % 2 == 0 else list(reversed(encoders))
        for name in order:
            figures[name].append(cpu_us_per_span(encoders[name], repeats))
    sdk, ours = (statistics.median(figures[name]) for name in encoders)
    ratios = [s / o for s, o in zip(figures["sdk"], figures["ours"], strict=True)]

    def each(name: str) -> str:
        return " ".join(f"{v:.2f}" for v in figures[name])

    print(
        f"{label:6s}  sdk {sdk:5.2f} us/span (rounds: {each('sdk')})  "
        f"ours {ours:5.2f} us/span (rounds: {each('ours')})  "
        f"ratio {statistics.median(ratios):.1f}x (rounds {min(ratios):.1f}-{max(ratios):.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=15)
    options = parser.parse_args()
    load_average = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"{BATCH} spans a batch, {options.rounds} alternating rounds of {options.repeats} "
        f"encodings (median), CPU time; protobuf backend {api_implementation.Type()}; "
        f"load average {load_average}"
    )
    compare("accept", accept_batch(), options.rounds, options.repeats)
    compare("worker", worker_batch(), options.rounds, options.repeats)


if __name__ == "__main__":
    main()
