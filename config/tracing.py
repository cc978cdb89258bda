"""OpenTelemetry tracing, configured once per process from the standard OTEL_* variables.

Off unless an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or `..._TRACES_ENDPOINT`):
then no SDK is imported, the API's no-op tracer is all there is, and the hot paths skip their
spans altogether unless a producer sent trace context. W3C trace context still passes through
when off: what a producer sent is kept with the event and sent on to the provider.

When on, the SDK reads everything else itself: `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_*` (headers, timeout, ...).
Spans leave in batches over OTLP/HTTP (protobuf) from the `otlp` extra.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

import structlog
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode
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
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
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
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
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


class TracedEvent(Protocol):
    """What the spans below read from an event's status record (events/record.py)."""

    id: str
    type: str
    target: str
    attempts: int
    trace_id: str | None
    trace_context: dict[str, str] | None


def keep_trace(record: TracedEvent) -> None:
    """Keep the active trace with the event: the worker continues it, the record shows it."""
    record.trace_context = current_carrier()
    record.trace_id = current_trace_id()


def _event_attributes(record: TracedEvent) -> dict[str, str | int]:
    return {
        "expbridge.event.id": record.id,
        "expbridge.event.type": record.type,
        "expbridge.target": record.target,
    }


def _span(
    name: str, parent: Context | None, kind: SpanKind, attributes: dict[str, Any], **options: Any
) -> AbstractContextManager[Span | None]:
    """A span, or nothing at all when tracing is off and no trace came in (the near-zero path).
    Off with a trace in: the API's non-recording span, which carries the context on."""
    if parent is None and not tracing_on():
        return contextlib.nullcontext()
    return TRACER.start_as_current_span(
        name, context=parent, kind=kind, attributes=attributes, **options
    )


@contextlib.contextmanager
def accept_span(record: TracedEvent, parent: Context | None, name: str) -> Iterator[Span | None]:
    """The ingress's accept of one event (POST /v1/events, a Slack command): the producer's
    trace continued, kept with the record, and bound to the request's log line."""
    with _span(name, parent, SpanKind.SERVER, _event_attributes(record)) as span:
        if span is not None:
            keep_trace(record)
            span_context = span.get_span_context()
            structlog.contextvars.bind_contextvars(
                trace_id=record.trace_id, span_id=trace.format_span_id(span_context.span_id)
            )
        yield span


def attempt_span(record: TracedEvent, dispatch: int) -> AbstractContextManager[Span | None]:
    """One worker attempt of one event, a child of the accept span kept with the event. Its
    outcome is set by the job (retry events, error status): exceptions are not recorded here."""
    attributes = {
        **_event_attributes(record),
        "expbridge.attempt": record.attempts + 1,
        "expbridge.dispatch": dispatch,
        "messaging.operation.type": "process",
        "messaging.message.id": record.id,
    }
    return _span(
        f"attempt {record.type}", context_from(record.trace_context), SpanKind.CONSUMER,
        attributes, record_exception=False, set_status_on_exception=False,
    )  # fmt: skip


def step_span(name: str, provider: str, attempt: int) -> AbstractContextManager[Span | None]:
    attributes = {"expbridge.step": name, "expbridge.provider": provider,
                  "expbridge.step.attempt": attempt}  # fmt: skip
    return _span(f"step {name}", None, SpanKind.INTERNAL, attributes)


def rule_span(
    rule: str, target: str, trigger: TracedEvent | None = None
) -> AbstractContextManager[Span | None]:
    """One rule evaluated for one target; linked to the triggering event's trace (the accept
    span kept with it) so the actions it queues can be followed back to their cause."""
    trigger_context = context_from(trigger.trace_context) if trigger is not None else None
    links = []
    if trigger_context is not None:
        links.append(trace.Link(trace.get_current_span(trigger_context).get_span_context()))
    attributes = {"expbridge.rule": rule, "expbridge.target": target}
    return _span(f"rule {rule}", None, SpanKind.INTERNAL, attributes, links=links)


def root_span(name: str) -> AbstractContextManager[Span | None]:
    """Work no event started (a schedule tick): a trace of its own when tracing is on."""
    return _span(name, None, SpanKind.INTERNAL, {})


def client_span(
    method: str, url_template: str | None, server: tuple[str, int | None], provider: str
) -> AbstractContextManager[Span | None]:
    """One upstream HTTP request (HTTP client semantic conventions). Only the URL template goes
    in: no ids, no query, no credentials."""
    attributes: dict[str, Any] = {
        "http.request.method": method, "server.address": server[0],
        "expbridge.provider": provider,
    }  # fmt: skip
    if server[1] is not None:
        attributes["server.port"] = server[1]
    if url_template is not None:
        attributes["url.template"] = url_template
    name = f"{method} {url_template}" if url_template else method
    return _span(name, None, SpanKind.CLIENT, attributes, record_exception=False)


def current_event(name: str, attributes: dict[str, Any]) -> None:
    """An event on the active span (e.g. a retry scheduled on the attempt span)."""
    trace.get_current_span().add_event(name, attributes)


def current_outcome(ok: bool, description: str | None = None, **attributes: Any) -> None:
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attributes(attributes)
    if not ok:
        span.set_status(StatusCode.ERROR, description)
