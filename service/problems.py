"""RFC 9457 problem+json bodies (service/request_log.py turns every error into one)."""

from __future__ import annotations

from aiohttp import web

from expbridge.events.problem import PROBLEM_MEDIA_TYPE, problem_body
from expbridge.events.store.connection import describe_redis_error


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
        return web.Response(
            status=self.status,
            body=problem_body(self.status, self.title, self.detail, self.slug, self.errors),
            content_type=PROBLEM_MEDIA_TYPE,
            headers=self.headers,
        )


def problem_for_http_exception(exc: web.HTTPException) -> Problem:
    """aiohttp's own errors (404, 405, 413 from client_max_size, ...) as problem+json."""
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return Problem(413, "Payload too large", "the request body is over the size limit")
    headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
    return Problem(exc.status, exc.reason, exc.text or exc.reason, headers=headers)


def redis_unavailable(error: BaseException, consequence: str = "") -> Problem:
    """A 503 that says what Redis did (unreachable, too slow, full, read-only, ...)."""
    detail = describe_redis_error(error) + (f"; {consequence}" if consequence else "")
    return Problem(
        503, "Service unavailable", detail, slug="redis-unavailable", headers={"Retry-After": "1"}
    )
