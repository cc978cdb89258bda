"""The spans of ours, in one place: attempt and step (worker), upstream request (HTTP client
semantic conventions), rule evaluation, schedule tick, Slack command (ingress); the accept span
is config/accept_span.py.

Each is nothing at all when tracing is off and no trace came in (config/tracing.py); off with
a trace in, the API's non-recording span, which carries the producer's context on.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode

from expbridge.config.tracing import (
    TRACER,
    context_from,
    current_carrier,
    current_trace_id,
    tracing_on,
)


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
        return nullcontext()
    return TRACER.start_as_current_span(
        name, context=parent, kind=kind, attributes=attributes, **options
    )


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
        f"attempt {record.type}",
        context_from(record.trace_context),
        SpanKind.CONSUMER,
        attributes,
        record_exception=False,
        set_status_on_exception=False,
    )


def step_span(name: str, provider: str, attempt: int) -> AbstractContextManager[Span | None]:
    attributes = {
        "expbridge.step": name,
        "expbridge.provider": provider,
        "expbridge.step.attempt": attempt,
    }
    # The error is the request span's and the attempt's to tell: no stack trace exported.
    return _span(f"step {name}", None, SpanKind.INTERNAL, attributes, record_exception=False)


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


def command_span(
    name: str, verb: str, parent: Context | None
) -> AbstractContextManager[Span | None]:
    """One chat command (a server span, made current: an event it queues keeps its trace and
    its log lines carry its ids); its outcome goes in with `current_outcome`."""
    attributes = {"expbridge.slack.verb": verb}
    return _span(name, parent, SpanKind.SERVER, attributes, record_exception=False)


def root_span(name: str) -> AbstractContextManager[Span | None]:
    """Work no event started (a schedule tick): a trace of its own when tracing is on."""
    return _span(name, None, SpanKind.INTERNAL, {})


def client_span(
    method: str, url_template: str | None, server: tuple[str, int | None], provider: str
) -> AbstractContextManager[Span | None]:
    """One upstream HTTP request (HTTP client semantic conventions). Only the URL template goes
    in: no ids, no query, no credentials."""
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "server.address": server[0],
        "expbridge.provider": provider,
    }
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
