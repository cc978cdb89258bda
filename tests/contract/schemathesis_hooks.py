"""Schemathesis hooks for `make schemathesis` (loaded through SCHEMATHESIS_HOOKS): the project's
rule that every 4xx is problem+json, as a check next to schemathesis's own."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def problem_json_4xx(ctx: Any, response: Any, case: Any) -> bool | None:
    if not 400 <= response.status_code < 500:
        return None
    values = response.headers.get("content-type") or response.headers.get("Content-Type") or [""]
    content_type = values[0] if isinstance(values, list) else values
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(
            f"{response.status_code} answered with {content_type!r}, not application/problem+json"
        )
    return None
