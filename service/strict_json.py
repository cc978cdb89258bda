"""Strict JSON for request bodies: only what the store can always read back.

A permissive parser takes `NaN` and `Infinity` (not JSON), lets a duplicate key silently win
(`{"type": "experiment.pause", "type": "experiment.delete"}` becomes a delete), reads `1e400`
as infinity, and nests as deep as it likes. A record built from such a body is either not what
the producer meant or cannot be parsed again by the worker (pydantic reads at most 200 levels),
which would jam its target's line. So the ingress refuses them with a 400 that names the
problem.

The fast path is orjson (strict about NaN, Infinity and overflowing numbers) plus one walk
over the result for depth and integer range that also counts the keys; a body without
backslashes cannot hide a `":` inside a string, so comparing that count with the body's `":`
tokens finds a duplicate key. Bodies with backslashes take the json module with hooks
(about ten times slower, still microseconds). Integers beyond 64 bits read as floats in both
(RFC 8259 calls them not interoperable); fields then bound them (a 422).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

# Deeper than any event of the catalog needs, far below what the store's parser reads back.
MAX_DEPTH = 32
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
KEY_END = re.compile(rb'"\s*:')


class JsonRejected(ValueError):
    """The body is not strict JSON; the message says why (and never repeats the body)."""


def _constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON value")


def _outside_int64(value: int) -> JsonRejected:
    digits = str(value)
    shown = digits if len(digits) <= 24 else digits[:24] + "…"
    return JsonRejected(f"the integer {shown} is outside the signed 64-bit range")


def _int(text: str) -> int | float:
    if len(text) > 20:  # far beyond 64 bits: a float, as orjson reads it
        return _finite_float(text)
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        if -(2**64) < value < 2**64:  # orjson reads these as ints: refused alike
            raise _outside_int64(value)
        return _finite_float(text)
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRejected(f"the number {text[:24]} is too large")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonRejected(f"the key {key[:64]!r} appears twice in one object")
            seen.add(key)
    return obj


_CAREFUL = json.JSONDecoder(
    object_pairs_hook=_unique_keys,
    parse_constant=_constant,
    parse_int=_int,
    parse_float=_finite_float,
)


def _walk(value: Any, depth: int = 1) -> int:
    """Checks depth and integers; gives the number of object keys seen. (Parsers give plain
    dicts and lists: exact type checks, cheaper than isinstance on a hot path.)"""
    if type(value) is dict:
        keys = len(value)
        children: Any = value.values()
    else:
        keys = 0
        children = value
    for child in children:
        kind = type(child)
        if kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                raise JsonRejected(f"the body nests deeper than {MAX_DEPTH} levels")
            keys += _walk(child, depth + 1)
        elif kind is int and not INT_MIN <= child <= INT_MAX:
            raise _outside_int64(child)
    return keys


def loads_strict(body: bytes) -> Any:
    """Parse `body` or raise JsonRejected (or ValueError/UnicodeDecodeError for bad JSON)."""
    if b"\\" not in body:
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _careful(body)  # to say what is wrong (or it is deeper than orjson reads)
        if isinstance(value, dict | list) and _walk(value) != len(KEY_END.findall(body)):
            _CAREFUL.decode(body.decode("utf-8"))  # names the duplicate key
            raise JsonRejected("a key appears twice in one object")
        return value
    return _careful(body)


def _careful(body: bytes) -> Any:
    try:
        value = _CAREFUL.decode(body.decode("utf-8"))
    except RecursionError:
        raise JsonRejected(f"the body nests deeper than {MAX_DEPTH} levels") from None
    if isinstance(value, dict | list):
        _walk(value)
    return value
