"""Errors raised by provider handlers, rendered in the provider's own error shape."""

import json
from typing import Any

from aiohttp import web


class ApiError(Exception):
    """An error response: the status, the JSON payload and extra headers."""

    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(f"{status}: {payload}")
        self.status = status
        self.payload = payload

    def response(self) -> web.Response:
        return web.json_response(self.payload, status=self.status)


class BodyError(ValueError):
    """The request body is not the JSON object an endpoint expects."""


def parse_json_object(raw: bytes, *, allow_empty: bool) -> dict[str, Any]:
    """Parse a request body that must be a JSON object; an empty body is `{}` if allowed."""
    if not raw.strip():
        if allow_empty:
            return {}
        raise BodyError("request body is required")
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyError(f"malformed JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise BodyError("request body must be a JSON object")
    return value


def field_errors(errors: list[Any]) -> list[tuple[str, str]]:
    """Flatten pydantic errors into (dotted field path, message) pairs."""
    out = []
    for err in errors:
        loc = ".".join(str(part) for part in err.get("loc", ())) or "body"
        out.append((loc, str(err.get("msg", "invalid value"))))
    return out
