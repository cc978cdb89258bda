"""RFC 9457 problem+json bodies (service/request_log.py turns every error into one)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

PROBLEM_TYPE_BASE = "https://expbridge.dev/problems/"


class Problem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        slug: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> web.Response:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return web.Response(
            status=self.status,
            body=json.dumps(body).encode(),
            content_type="application/problem+json",
            headers=self.headers,
        )


def problem_for_http_exception(exc: web.HTTPException) -> Problem:
    """aiohttp's own errors (404, 405, 413 from client_max_size, ...) as problem+json."""
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return Problem(413, "Payload too large", "the request body is over the size limit")
    headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
    return Problem(exc.status, exc.reason, exc.text or exc.reason, headers=headers)
