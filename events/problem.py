"""RFC 9457 problem+json bodies: the error format of every HTTP answer the bridge gives (the
ingress, and the worker's metrics endpoint)."""

from __future__ import annotations

import json
from typing import Any

PROBLEM_TYPE_BASE = "https://expbridge.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_body(
    status: int, title: str, detail: str, slug: str, errors: list[dict[str, str]] | None = None
) -> bytes:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return json.dumps(body).encode()
