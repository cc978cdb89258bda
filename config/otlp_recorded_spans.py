"""The accept path's recorded spans (config/span_recorder.py) written as OTLP protobuf bytes
straight from their slots, for config/otlp_export.py's request: field by field, and a run of
plain roots from one template. The bytes are those the SDK's serialization gives
(tests/config/test_otlp_recorded_spans.py compares them for every shape written here); any
span these return None for goes through its message instead (config/otlp_messages.py).
"""

from __future__ import annotations

import struct
from functools import partial
from operator import attrgetter, is_, itemgetter
from typing import Any

from opentelemetry.trace import DEFAULT_TRACE_STATE, StatusCode

from expbridge.config.otlp_messages import LOCAL_FLAGS, REMOTE_FLAGS
from expbridge.config.span_recorder import UNSET

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


def field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: its tag, its length, its bytes."""
    return tag + (_SHORT[len(payload)] if len(payload) < 0x80 else _varint(len(payload))) + payload


_SHORT = tuple(bytes((n,)) for n in range(0x80))


def plain_roots(spans: list[Any]) -> bytes | None:
    """A run of the recorder's plain roots (config/span_recorder.py: no parent, attributes or
    status), written in one go: the same bytes as `recorded_span` gives each, from one
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
        named = _NAMES[name] = field(b"\x2a", name.encode()) + _SERVER_KIND
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


def recorded_span(span: Any) -> bytes | None:
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
            text = trace_state.to_header()  # the SDK's "k=v,k=v" join
            body = _IDS.pack(_TRACE_ID_TAG, high, low, _SPAN_ID_TAG, span_id)
            body += field(b"\x1a", text.encode())
            if parent is not None:
                body += _PARENT.pack(_PARENT_TAG, parent[1])
        elif parent is not None:
            body = _IDS_PARENT.pack(
                _TRACE_ID_TAG, high, low, _SPAN_ID_TAG, span_id, _PARENT_TAG, parent[1]
            )
        else:
            body = _IDS.pack(_TRACE_ID_TAG, high, low, _SPAN_ID_TAG, span_id)
        if (named := _NAMES.get(name)) is None:
            named = _NAMES[name] = field(b"\x2a", name.encode()) + _SERVER_KIND
        body += named + _TIMES.pack(0x39, start, 0x41, end)
        if attributes := span._attributes:
            for key, value in attributes.items():
                if not (pair := _attribute(key, value)):
                    return None
                body += field(b"\x4a", pair)
        if (status := span._status) is UNSET:
            body += _UNSET_STATUS
        elif status is not None:
            body += _status(status)
        body += _FLAGS[REMOTE_FLAGS if parent is not None and parent[2] else LOCAL_FLAGS]
    except (UnicodeEncodeError, struct.error):
        return None
    return b"\x12" + _SHORT[len(body)] + body if len(body) < 0x80 else field(b"\x12", body)


def _attribute(key: str, value: Any) -> bytes | None:
    """A KeyValue for a str, bool, int (64-bit) or float; None for anything else."""
    kind = type(value)  # exact types, as config/otlp_messages.py tells them
    if kind is str:
        any_value = field(b"\x0a", value.encode())
    elif kind is bool:
        any_value = b"\x10\x01" if value else b"\x10\x00"
    elif kind is int and value in _INT64:
        any_value = b"\x18" + _varint(value & 0xFFFFFFFFFFFFFFFF)  # two's complement, as int64
    elif kind is float:
        any_value = b"\x21" + _DOUBLE.pack(value)
    else:
        return None
    return field(b"\x0a", key.encode()) + field(b"\x12", any_value) if key else None


def _status(status: Any) -> bytes:
    code = status.status_code
    if code is StatusCode.UNSET and not status.description:
        return _UNSET_STATUS
    message = field(b"\x12", status.description.encode()) if status.description else b""
    return field(b"\x7a", message + _STATUS_CODES.get(code, b""))
