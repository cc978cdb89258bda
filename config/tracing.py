"""OpenTelemetry tracing, configured once per process from the standard OTEL_* variables.

Off unless an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or `..._TRACES_ENDPOINT`):
then no SDK is imported, the API's no-op tracer is all there is, and the hot paths skip their
spans altogether unless a producer sent trace context. W3C trace context still passes through
when off: what a producer sent is kept with the event and sent on to the provider.

When on, the SDK reads everything else itself: `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_*` (headers, timeout, ...).
Spans leave in batches over OTLP/HTTP (protobuf) from the `otlp` extra, through the SDK's
exporter with our own encoder (config/otlp_export.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = structlog.get_logger("expbridge.tracing")
# Every span of ours comes from this tracer (a proxy: it follows the provider set below).
TRACER = trace.get_tracer("expbridge")
# W3C trace context only, whatever OTEL_PROPAGATORS says: it is what we keep with an event.
W3C = TraceContextTextMapPropagator()
TRACE_FIELDS = ("traceparent", "tracestate")
SUPPORTED_PROTOCOL = "http/protobuf"


def tracing_wanted(env: Mapping[str, str]) -> bool:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def configure_tracing(service_name: str, env: Mapping[str, str] = os.environ) -> bool:
    """Once per process, after logging. True when spans are exported.

    `service_name` applies only when neither OTEL_SERVICE_NAME nor a service.name in
    OTEL_RESOURCE_ATTRIBUTES says otherwise."""
    if not tracing_wanted(env):
        return False
    protocol = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or SUPPORTED_PROTOCOL
    )
    if protocol != SUPPORTED_PROTOCOL:
        log.warning("tracing off: only OTLP over http/protobuf is supported", protocol=protocol)
        return False
    try:
        from expbridge.config.otlp_export import OtlpSpanExporter
    except ImportError:
        log.warning(
            "tracing off: the OTLP exporter is not installed (pip install 'expbridge[otlp]')"
        )
        return False
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service_name}))
    # TracerProvider flushes its batches at interpreter exit (shutdown_on_exit).
    provider = TracerProvider(resource=resource)
    # The SDK's OTLP/HTTP exporter with a cheaper encoder (config/otlp_export.py): the batch
    # processor's thread encodes under this process's GIL, so its cost is the accept path's.
    provider.add_span_processor(BatchSpanProcessor(OtlpSpanExporter()))
    trace.set_tracer_provider(provider)
    log.info("tracing on", service=resource.attributes.get(SERVICE_NAME), protocol=protocol)
    return True


def tracing_on() -> bool:
    """Whether spans are recorded in this process (an SDK provider was set)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def context_from(carrier: Mapping[str, Any] | None) -> Context | None:
    """The trace context in a `traceparent`/`tracestate` mapping, or None when it has none
    (or an invalid one: a malformed traceparent is ignored, as W3C says, never a 4xx)."""
    if not carrier or not isinstance(carrier.get("traceparent"), str):
        return None
    context = W3C.extract({k: v for k in TRACE_FIELDS if isinstance(v := carrier.get(k), str)})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def current_carrier() -> dict[str, str] | None:
    """The active span's context as `traceparent`/`tracestate`, to keep with an event."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    W3C.inject(carrier)
    return carrier


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(span_context.trace_id) if span_context.is_valid else None


def inject_headers(headers: MutableMapping[str, str]) -> None:
    """Send the active trace on (an upstream request): `traceparent` and `tracestate`."""
    if trace.get_current_span().get_span_context().is_valid:
        W3C.inject(headers)


def add_trace_ids(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog: every line written while a span is active carries its trace and span id."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", trace.format_trace_id(span_context.trace_id))
        event_dict.setdefault("span_id", trace.format_span_id(span_context.span_id))
    return event_dict
