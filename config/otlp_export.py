"""Spans out over OTLP/HTTP (protobuf): the SDK's exporter with an encoder of our own.

The batch processor's export runs in a thread of the ingress process, under its GIL, so every
µs the export spends encoding is a µs the accept path does not get. `encode_request` writes
the request's protobuf bytes itself: the accept path's own spans (config/span_recorder.py:
always a server span, no events or links, a few str/bool/int attributes) field by field
straight from their slots (config/otlp_recorded_spans.py), ~8k instructions a span where
filling the SDK's messages took ~37k; any other span through its message, filled in place
(config/otlp_messages.py); the groups by resource and scope framed around them. The bytes are
the SDK's encoder's (`encode_spans(...).SerializeToString()`), byte for byte
(tests/config/test_otlp_export.py compares them). `OtlpSpanExporter` is the SDK's
`OTLPSpanExporter` with only the encoding swapped, so every OTEL_EXPORTER_OTLP_* setting is
read by the SDK itself, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any, cast

import structlog

# Private to the SDK, used on purpose (tests/config/test_otlp_export.py imports this module, so
# it fails if it moves): the error a too-large batch is counted under (its class name is the
# `error.type` of the exporter's failed-export metric).
from opentelemetry.exporter.otlp.proto.http._common import RequestPayloadTooLargeError
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE

from expbridge.config.otlp_messages import (
    fill_span,
    resource_message,
    scope_message,
)
from expbridge.config.otlp_recorded_spans import field, plain_roots, recorded_span
from expbridge.config.span_recorder import ended_span_base, plain_root_base

log = structlog.get_logger("expbridge.tracing")

_ENDED, _PLAIN_ROOT = ended_span_base(), plain_root_base()


def encode_request(spans: Sequence[ReadableSpan]) -> bytes:
    """The OTLP request for a batch, serialized: spans grouped by resource, then by scope, each
    group in the order it first appears and its spans in batch order (as the SDK does)."""
    groups: dict[Any, dict[Any, list[bytes]]] = {}
    last: tuple[object, object] = (groups, groups)  # the last (resource, scope): none yet
    into: list[bytes] = []
    # By runs of one class: the recorder's spans have their resource and scope on their class.
    for kind, run in groupby(spans, type):
        if issubclass(kind, _ENDED):
            resource, scope = cast(Any, kind)._resource, cast(Any, kind)._instrumentation_scope
            if (resource, scope) != last:  # Resource's == is by value: rarely reached
                into, last = _group(groups, resource, scope), (resource, scope)
            recorded = list(run)
            written = plain_roots(recorded) if issubclass(kind, _PLAIN_ROOT) else None
            if written is not None:
                into.append(written)
            else:
                into.extend(recorded_span(span) or _message_entry(span) for span in recorded)
            continue
        for span in run:
            resource, scope = span.resource, span.instrumentation_scope or None
            # Consecutive spans nearly always share their resource and scope objects: the group
            # is looked up (which hashes the Resource, a JSON dump) only on a change.
            if resource is not last[0] or scope is not last[1]:
                into, last = _group(groups, resource, scope), (resource, scope)
            into.append(_message_entry(span))
    return b"".join(_resource_spans(resource, scopes) for resource, scopes in groups.items())


def _group(groups: dict[Any, dict[Any, list[bytes]]], resource: Any, scope: Any) -> list[bytes]:
    """Found by equality, as the SDK's dictionaries do (equal resources are one group)."""
    return groups.setdefault(resource, {}).setdefault(scope, [])


def _message_entry(span: ReadableSpan) -> bytes:
    message = ProtoSpan()
    fill_span(message, span)
    return field(b"\x12", message.SerializePartialToString())


def _resource_spans(resource: Any, scopes: dict[Any, list[bytes]]) -> bytes:
    """One ResourceSpans (field 1 of the request): its resource (1, present even when empty, as
    the SDK sets it), its ScopeSpans (2: scope, present even without one; spans; schema URL),
    its schema URL (3)."""
    parts = [field(b"\x0a", resource_message(resource).SerializePartialToString())]
    for scope, entries in scopes.items():
        scope_spans = [field(b"\x0a", scope_message(scope).SerializePartialToString()), *entries]
        if scope is not None and scope.schema_url:
            scope_spans.append(field(b"\x1a", scope.schema_url.encode()))
        parts.append(field(b"\x12", b"".join(scope_spans)))
    if resource.schema_url:
        parts.append(field(b"\x1a", resource.schema_url.encode()))
    return field(b"\x0a", b"".join(parts))


def encode_spans(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    """The request as a message (what the SDK's `encode_spans` gives), for comparisons."""
    return ExportTraceServiceRequest.FromString(encode_request(spans))


class OtlpSpanExporter(OTLPSpanExporter):
    """The SDK's OTLP/HTTP protobuf exporter (it reads every OTEL_EXPORTER_OTLP_* setting:
    endpoint, headers, timeout, compression, certificates) with `encode_request` above.

    `export` does what the SDK's does (opentelemetry-exporter-otlp-proto-http 1.45) but encode,
    so it uses what the SDK's constructor sets up, private to the SDK (it has no public hook
    for the encoding): `_shutdown`, `_metrics` (the exporter's own metrics, when enabled),
    `_max_request_size`, `_client` (posts, retries, compresses). The tests fail if they move."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            log.warning("span batch dropped: the exporter is shut down", spans=len(spans))
            return SpanExportResult.FAILURE
        with self._metrics.export_operation(len(spans)) as result:
            try:
                body = encode_request(spans)
            except Exception as error:
                log.error(
                    "span batch dropped: it cannot be encoded",
                    spans=len(spans),
                    error_type=type(error).__name__,
                )
                result.error = error
                return SpanExportResult.FAILURE
            limit = self._max_request_size  # 0 or less: no limit (the SDK's rule)
            if 0 < limit < len(body):
                log.warning(
                    "span batch dropped: larger than the maximum request size",
                    spans=len(spans),
                    size=len(body),
                    max_request_size=limit,
                )
                result.error = RequestPayloadTooLargeError(
                    f"the encoded batch is {len(body)} bytes, over max_request_size {limit}"
                )
                return SpanExportResult.FAILURE
            sent = self._client.export(body)  # logs its own failures (status, reason)
            if not sent.success:
                result.error = sent.error
                if sent.status_code is not None:
                    result.error_attrs = {HTTP_RESPONSE_STATUS_CODE: sent.status_code}
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS
