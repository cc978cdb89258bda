"""Spans out over OTLP/HTTP (protobuf): the SDK's exporter with an encoder of our own.

The batch processor's export runs in a thread of the ingress process, under its GIL, so every
µs the export spends encoding is a µs the accept path does not get. The SDK's encoder
(`opentelemetry.exporter.otlp.proto.common.trace_encoder.encode_spans`) builds each message
from keyword arguments, through a helper per field. Filling the same messages in place
(`spans.add()`, then field by field) is 2.1-2.4x cheaper on the ingress's accept spans and
2.5-3x on the worker's attribute-heavy ones (bench/span_encoding.py); what is left is mostly
reading the SDK's ReadableSpan through its public properties. `encode_spans` below gives the
request the SDK's gives, field for field (tests/config/test_otlp_export.py compares them);
`OtlpSpanExporter` is the SDK's `OTLPSpanExporter` with only the encoding swapped, so every
OTEL_EXPORTER_OTLP_* setting is read by the SDK itself, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import structlog
from google.protobuf.internal.containers import RepeatedCompositeFieldContainer

# Private to the SDK, used on purpose (tests/config/test_otlp_export.py imports this module, so
# it fails if they move): the SDK's encoder for the attribute values we do not set ourselves
# (the same encoding, by construction), and the error a too-large batch is counted under (its
# class name is the `error.type` of the exporter's failed-export metric).
from opentelemetry.exporter.otlp.proto.common._internal import _encode_value
from opentelemetry.exporter.otlp.proto.http._common import RequestPayloadTooLargeError
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, SpanFlags
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status as ProtoStatus
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE
from opentelemetry.trace import DEFAULT_TRACE_STATE, SpanContext, SpanKind, StatusCode

log = structlog.get_logger("expbridge.tracing")

_KINDS = {
    SpanKind.INTERNAL: ProtoSpan.SPAN_KIND_INTERNAL,
    SpanKind.SERVER: ProtoSpan.SPAN_KIND_SERVER,
    SpanKind.CLIENT: ProtoSpan.SPAN_KIND_CLIENT,
    SpanKind.PRODUCER: ProtoSpan.SPAN_KIND_PRODUCER,
    SpanKind.CONSUMER: ProtoSpan.SPAN_KIND_CONSUMER,
}
# As the SDK sets `flags`: "whether the parent (or the link) is remote" is always known, and
# the remote bit is set when it is. The W3C trace flags are not copied in (the SDK does not).
_LOCAL = SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
_REMOTE = _LOCAL | SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
# Dictionaries rather than the SDK's `.value` (the same numbers; an enum's value is a slow
# Python-level property), and the usual member told by identity first, quicker than hashing an
# enum (kept in names of their own: even `SpanKind.SERVER` is a slow look-up).
_SERVER, _SDK_SERVER = ProtoSpan.SPAN_KIND_SERVER, SpanKind.SERVER
_UNSET, _SDK_UNSET = ProtoStatus.STATUS_CODE_UNSET, StatusCode.UNSET
_STATUS_CODES = {
    StatusCode.UNSET: ProtoStatus.STATUS_CODE_UNSET,
    StatusCode.OK: ProtoStatus.STATUS_CODE_OK,
    StatusCode.ERROR: ProtoStatus.STATUS_CODE_ERROR,
}
_NOTHING_YET = object()

Spans: TypeAlias = RepeatedCompositeFieldContainer[ProtoSpan]
Pairs: TypeAlias = RepeatedCompositeFieldContainer[KeyValue]


def encode_spans(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    """The OTLP request for a batch: spans grouped by resource, then by instrumentation scope,
    each group in the order it first appears and its spans in batch order (as the SDK does)."""
    request = ExportTraceServiceRequest()
    groups: dict[Resource, tuple[ResourceSpans, dict[InstrumentationScope | None, Spans]]] = {}
    last_resource: object = _NOTHING_YET
    last_scope: object = _NOTHING_YET
    into: Spans | None = None
    for span in spans:
        resource, scope = span.resource, span.instrumentation_scope or None
        # Consecutive spans nearly always share their resource and scope objects: the group is
        # looked up (which hashes the Resource, a JSON dump of its attributes) only on a change.
        if into is None or resource is not last_resource or scope is not last_scope:
            into = _group(request, groups, resource, scope)
            last_resource, last_scope = resource, scope
        _fill_span(into.add(), span)
    return request


def _group(
    request: ExportTraceServiceRequest,
    groups: dict[Resource, tuple[ResourceSpans, dict[InstrumentationScope | None, Spans]]],
    resource: Resource,
    scope: InstrumentationScope | None,
) -> Spans:
    """The spans of (resource, scope), made on its first span; found by equality, as the SDK's
    dictionaries do (equal resources from distinct objects are one group)."""
    if (group := groups.get(resource)) is None:
        resource_spans = request.resource_spans.add()
        resource_spans.resource.SetInParent()  # the SDK always sets it, even when empty
        _fill_attributes(resource_spans.resource.attributes, resource.attributes)
        if resource.schema_url:
            resource_spans.schema_url = resource.schema_url
        group = groups[resource] = (resource_spans, {})
    resource_spans, scopes = group
    if (spans := scopes.get(scope)) is None:
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.SetInParent()  # present (empty) even without a scope, as the SDK's
        if scope is not None:
            if scope.name:
                scope_spans.scope.name = scope.name
            if scope.version:
                scope_spans.scope.version = scope.version
            if scope.attributes:
                _fill_attributes(scope_spans.scope.attributes, scope.attributes)
            if scope.schema_url:
                scope_spans.schema_url = scope.schema_url
        spans = scopes[scope] = scope_spans.spans
    return spans


def _fill_span(into: ProtoSpan, span: ReadableSpan) -> None:
    context: SpanContext = span.context
    into.trace_id = context.trace_id.to_bytes(16, "big")
    into.span_id = context.span_id.to_bytes(8, "big")
    trace_state = context.trace_state
    # Most spans have the shared empty default: `is` spares TraceState's Python-level len().
    if trace_state is not DEFAULT_TRACE_STATE and trace_state:
        into.trace_state = ",".join(f"{key}={value}" for key, value in trace_state.items())
    parent = span.parent
    if parent is not None:
        into.parent_span_id = parent.span_id.to_bytes(8, "big")
    into.flags = _REMOTE if parent is not None and parent.is_remote else _LOCAL
    if span.name is not None:
        into.name = span.name
    kind = span.kind
    into.kind = _SERVER if kind is _SDK_SERVER else _KINDS[kind]
    if span.start_time is not None:
        into.start_time_unix_nano = span.start_time
    if span.end_time is not None:
        into.end_time_unix_nano = span.end_time
    if attributes := span.attributes:
        _fill_attributes(into.attributes, attributes)
    # Zero is protobuf's default: setting it would change nothing, so only counts are set.
    if dropped := span.dropped_attributes:
        into.dropped_attributes_count = dropped
    if dropped := span.dropped_events:
        into.dropped_events_count = dropped
    if dropped := span.dropped_links:
        into.dropped_links_count = dropped
    for event in span.events:
        proto_event = into.events.add()
        proto_event.name = event.name
        proto_event.time_unix_nano = event.timestamp
        if event.attributes:
            _fill_attributes(proto_event.attributes, event.attributes)
        if dropped := event.dropped_attributes:
            proto_event.dropped_attributes_count = dropped
    for link in span.links:
        proto_link = into.links.add()
        proto_link.trace_id = link.context.trace_id.to_bytes(16, "big")
        proto_link.span_id = link.context.span_id.to_bytes(8, "big")
        if link.attributes:
            _fill_attributes(proto_link.attributes, link.attributes)
        if dropped := link.dropped_attributes:
            proto_link.dropped_attributes_count = dropped
        proto_link.flags = _REMOTE if link.context.is_remote else _LOCAL
    if (status := span.status) is not None:
        proto_status = into.status
        code = status.status_code
        # Set even when UNSET (0): the status is present, as the SDK's.
        proto_status.code = _UNSET if code is _SDK_UNSET else _STATUS_CODES[code]
        if status.description:
            proto_status.message = status.description


def _fill_attributes(into: Pairs, attributes: Mapping[str, Any]) -> None:
    """Key-value pairs; str, bool, int and float (nearly all of ours) set directly, any other
    value (bytes, sequences, and whatever else the SDK encodes) by the SDK's own `_encode_value`.
    An attribute that cannot be encoded is left out and logged, as the SDK does (but naming
    only its key and type: a value might be something a log should not show)."""
    for key, value in attributes.items():
        pair = into.add()
        kind = type(value)  # exact types: bool before int, subclasses go the SDK's way
        try:
            pair.key = key
            if kind is str:
                pair.value.string_value = value
            elif kind is bool:
                pair.value.bool_value = value
            elif kind is int:
                pair.value.int_value = value
            elif kind is float:
                pair.value.double_value = value
            else:
                pair.value.CopyFrom(_encode_value(value))
        except Exception as error:  # e.g. an int beyond 64 bits, an unsupported type
            del into[-1]
            log.warning(
                "span attribute left out: it cannot be encoded",
                key=str(key),
                value_type=kind.__name__,
                error_type=type(error).__name__,
            )


class OtlpSpanExporter(OTLPSpanExporter):
    """The SDK's OTLP/HTTP protobuf exporter (it reads every OTEL_EXPORTER_OTLP_* setting:
    endpoint, headers, timeout, compression, certificates) with `encode_spans` above.

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
                body = encode_spans(spans).SerializePartialToString()
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
