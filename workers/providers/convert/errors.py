"""Convert error bodies: `{"code": int, "message": str | [str], "fields" | "parameters"}`."""

from __future__ import annotations

from typing import Any


def _details(raw: Any) -> str:
    if isinstance(raw, dict):
        return "; ".join(f"{name}: {message}" for name, message in raw.items())
    if isinstance(raw, list):
        return "; ".join(str(item) for item in raw)
    return str(raw) if raw else ""


def parse_convert_error(parsed: Any, text: str) -> tuple[str | None, str]:
    """(the provider's error code, a message); a body that is not JSON gives its text."""
    if not isinstance(parsed, dict) or not ({"code", "message"} & parsed.keys()):
        return None, text.strip()[:200] or "no error body"
    raw_message = parsed.get("message")
    if isinstance(raw_message, list):
        message = "; ".join(str(m) for m in raw_message) or "upstream error"
    else:
        message = str(raw_message or parsed.get("code") or "upstream error")
    # One documented example says `parameters` where the others say `fields`.
    details = _details(parsed.get("fields") or parsed.get("parameters"))
    if details and details not in message:
        message = f"{message} ({details})"
    code = parsed.get("code")
    return (str(code) if code is not None else None), message
