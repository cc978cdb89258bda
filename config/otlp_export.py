"""Spans out over OTLP/HTTP (protobuf): the SDK's exporter with an encoder of our own.

The batch processor's export runs in a thread of the ingress process, under its GIL, so every
µs the export spends encoding is a µs the accept path does not get. `encode_request` writes
the request's protobuf bytes itself: the accept path's own spans (config/span_recorder.py:
always a server span, no events or links, a few str/bool/int attributes) field by field
straight from their slots, in ~7k instructions a span where filling the SDK's messages took
~37k (bench/span_encoding.py); any other span through its message, filled in place
(config/otlp_messages.py); the groups by resource and scope framed around them. The bytes are
the SDK's encoder's (`encode_spans(...).SerializeToString()`), byte for byte
(tests/config/test_otlp_export.py compares them). `OtlpSpanExporter` is the SDK's
`OTLPSpanExporter` with only the encoding swapped, so every OTEL_EXPORTER_OTLP_* setting is
read by the SDK itself, as before.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import partial
from itertools import groupby
from operator import attrgetter, is_, itemgetter
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
from opentelemetry.trace import DEFAULT_TRACE_STATE, StatusCode

from expbridge.config.otlp_messages import (
    LOCAL_FLAGS,
    REMOTE_FLAGS,
    fill_span,
    resource_message,
    scope_message,
)
from expbridge.config.span_recorder import UNSET, ended_span_base, plain_root_base

log = structlog.get_logger("expbridge.tracing")

_ENDED, _PLAIN_ROOT = ended_span_base(), plain_root_base()
# Wire formats (protobuf: a field's tag is its number << 3 | its wire type). Span: trace_id (1)
# and span_id (2) as bytes, big-endian as the SDK writes them; parent_span_id (4); the start (7)
# and end (8) as little-endian fixed64; flags (16) as fixed32.
_IDS = struct.Struct(">2sQQ2sQ")
_PARENT = struct.Struct(">2sQ")
_IDS_PARENT = struct.Struct(">2sQQ2sQ2sQ")
_TIMES = struct.Struct("<BQBQ")
_TRACE_ID_TAG, _SPAN_ID_TAG, _PARENT_TAG = b"\x0a\x10", b"\x12\x08", b"\x22\x08"
_LOW_64 = (1 << 64) - 1
_FLAGS = {flags: b"\x85\x01" + struct.pack("<I", flags) for flags in (LOCAL_FLAGS, REMOTE_FLAGS)}
_SERVER_KIND = b"\x30\x02"  # kind (6) SPAN_KIND_SERVER, as every recorded span is
_UNSET_STATUS = b"\x7a\x00"  # status (15), present and empty: code UNSET, no message
_STATUS_CODES = {StatusCode.OK: b"\x18\x01", StatusCode.ERROR: b"\x18\x02"}
_DOUBLE = struct.Struct("<d")
_INT64 = range(-(2**63), 2**63)
_NAMES: dict[str, bytes] = {}
# For a run of plain roots (C-level callables, mapped over the run).
_NAME, _CONTEXT = attrgetter("_name"), attrgetter("_context")
_START, _END = attrgetter("_start_time"), attrgetter("_end_time")
_TRACE_STATE = itemgetter(4)
_IS_DEFAULT_STATE = partial(is_, DEFAULT_TRACE_STATE)
# a span name's field (5) and the kind after it, written once


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: its tag, its length, its bytes."""
    return tag + (_SHORT[len(payload)] if len(payload) < 0x80 else _varint(len(payload))) + payload


_SHORT = tuple(bytes((n,)) for n in range(0x80))


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
            written = _plain_roots(recorded) if issubclass(kind, _PLAIN_ROOT) else None
            if written is not None:
                into.append(written)
            else:
                into.extend(_recorded_span(span) or _message_entry(span) for span in recorded)
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
    return _field(b"\x12", message.SerializePartialToString())


def _plain_roots(spans: list[Any]) -> bytes | None:
    """A run of the recorder's plain roots (config/span_recorder.py: no parent, attributes or
    status), written in one go: the same bytes as `_recorded_span` gives each, from one
    template per run filled by `%` with each span's two packed parts (~5.5k instructions a span
    instead of ~10k: no call, no test per span). None when the run does not fit (names that
    differ, a time of 0, a trace state): span by span instead."""
    names = set(map(_NAME, spans))
    contexts = list(map(_CONTEXT, spans))
    if len(names) != 1 or not all(map(_START, spans)) or not all(map(_END, spans)):
        return None
    if not all(map(_IS_DEFAULT_STATE, map(_TRACE_STATE, contexts))) or not (name := names.pop()):
        return None
    if (named := _NAMES.get(name)) is None:
        named = _NAMES[name] = _field(b"\x2a", name.encode()) + _SERVER_KIND
    tail = _UNSET_STATUS + _FLAGS[LOCAL_FLAGS]
    # A span entry: trace_id (1) and span_id (2), name and kind, start (7) and end (8), status,
    # flags (16); its constant parts escaped for `%`.
    size = _IDS.size + len(named) + _TIMES.size + len(tail)
    prefix, name_and_kind, ending = (
        part.replace(b"%", b"%%") for part in (b"\x12" + _varint(size), named, tail)
    )
    template = prefix + b"%b" + name_and_kind + b"%b" + ending
    try:
        return b"".join(
            [
                template
                % (
                    _IDS.pack(_TRACE_ID_TAG, c[0] >> 64, c[0] & _LOW_64, _SPAN_ID_TAG, c[1]),
                    _TIMES.pack(0x39, span._start_time, 0x41, span._end_time),
                )
                for span, c in zip(spans, contexts, strict=True)
            ]
        )
    except struct.error:
        return None


def _resource_spans(resource: Any, scopes: dict[Any, list[bytes]]) -> bytes:
    """One ResourceSpans (field 1 of the request): its resource (1, present even when empty, as
    the SDK sets it), its ScopeSpans (2: scope, present even without one; spans; schema URL),
    its schema URL (3)."""
    parts = [_field(b"\x0a", resource_message(resource).SerializePartialToString())]
    for scope, entries in scopes.items():
        scope_spans = [_field(b"\x0a", scope_message(scope).SerializePartialToString()), *entries]
        if scope is not None and scope.schema_url:
            scope_spans.append(_field(b"\x1a", scope.schema_url.encode()))
        parts.append(_field(b"\x12", b"".join(scope_spans)))
    if resource.schema_url:
        parts.append(_field(b"\x1a", resource.schema_url.encode()))
    return _field(b"\x0a", b"".join(parts))


def _recorded_span(span: Any) -> bytes | None:
    """A span of config/span_recorder.py as a ScopeSpans' span entry (field 2), in the order and
    form the SDK's serialization gives; None for one with anything this does not write the same
    (no start or end time, an empty name or key, an attribute of another type, text that is not
    valid UTF-8): it goes through its message as any other span. A handful of byte strings
    added up: each Python-level step is ~1k instructions, the message path took ~37k."""
    trace_id, span_id, _, _, trace_state, _ = span._context
    name, parent, start, end = span._name, span._parent, span._start_time, span._end_time
    if not (name and start and end):
        return None
    try:
        high, low = trace_id >> 64, trace_id & _LOW_64
        if trace_state is not DEFAULT_TRACE_STATE and trace_state:
            text = ",".join(f"{key}={value}" for key, value in trace_state.items())
            body = _IDS.pack(_TRACE_ID_TAG, high, low, _SPAN_ID_TAG, span_id)
            body += _field(b"\x1a", text.encode())
            if parent is not None:
                body += _PARENT.pack(_PARENT_TAG, parent[1])
        elif parent is not None:
            body = _IDS_PARENT.pack(
                _TRACE_ID_TAG, high, low, _SPAN_ID_TAG, span_id, _PARENT_TAG, parent[1]
            )
        else:
            body = _IDS.pack(_TRACE_ID_TAG, high, low, _SPAN_ID_TAG, span_id)
        if (named := _NAMES.get(name)) is None:
            named = _NAMES[name] = _field(b"\x2a", name.encode()) + _SERVER_KIND
        body += named + _TIMES.pack(0x39, start, 0x41, end)
        if attributes := span._attributes:
            for key, value in attributes.items():
                if not (pair := _attribute(key, value)):
                    return None
                body += _field(b"\x4a", pair)
        if (status := span._status) is UNSET:
            body += _UNSET_STATUS
        elif status is not None:
            body += _status(status)
        body += _FLAGS[REMOTE_FLAGS if parent is not None and parent[2] else LOCAL_FLAGS]
    except (UnicodeEncodeError, struct.error):
        return None
    return b"\x12" + _SHORT[len(body)] + body if len(body) < 0x80 else _field(b"\x12", body)


def _attribute(key: str, value: Any) -> bytes | None:
    """A KeyValue for a str, bool, int (64-bit) or float; None for anything else."""
    kind = type(value)  # exact types, as config/otlp_messages.py tells them
    if kind is str:
        any_value = _field(b"\x0a", value.encode())
    elif kind is bool:
        any_value = b"\x10\x01" if value else b"\x10\x00"
    elif kind is int and value in _INT64:
        any_value = b"\x18" + _varint(value & 0xFFFFFFFFFFFFFFFF)  # two's complement, as int64
    elif kind is float:
        any_value = b"\x21" + _DOUBLE.pack(value)
    else:
        return None
    return _field(b"\x0a", key.encode()) + _field(b"\x12", any_value) if key else None


def _status(status: Any) -> bytes:
    code = status.status_code
    if code is StatusCode.UNSET and not status.description:
        return _UNSET_STATUS
    message = _field(b"\x12", status.description.encode()) if status.description else b""
    return _field(b"\x7a", message + _STATUS_CODES.get(code, b""))


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
