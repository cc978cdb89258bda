"""The one place upstream HTTP happens: JSON in and out, timeouts, error classification."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import aiohttp
import orjson
from yarl import URL

from expbridge.config import spans, tracing
from expbridge.config.logging import context_line_writer
from expbridge.workers.providers.errors import (
    TransientUpstreamError,
    error_for_status,
    parse_retry_after,
)

T = TypeVar("T")

# (parsed error body or None, raw text) -> (provider error code, message)
ErrorParser = Callable[[Any, str], tuple[str | None, str]]
# (method, absolute url, exact body bytes) -> extra headers (e.g. a request signature)
Signer = Callable[[str, str, bytes], dict[str, str]]
# (provider, operation, status class "2xx"/"4xx"/"5xx"/"error", duration in s): e.g. metrics
UpstreamObserver = Callable[[str, str, str, float], None]


def path_segment(value: str) -> str:
    """One percent-encoded path segment. `.` and `..` are refused: a proxy or server that
    resolves dot segments would turn `/experiments/x/users/..` into `/experiments/x`."""
    if value in {".", ".."}:
        raise ValueError(f"{value!r} cannot be a path segment")
    return quote(value, safe="")


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    data: Any


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a client call gives back: the upstream HTTP status and the typed body (a step
    that calls no upstream, the rules' evaluation, has no status)."""

    status: int | None
    value: T


class UpstreamHttp:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        provider: str,
        base_url: str,
        *,
        timeout_s: float,
        parse_error: ErrorParser,
        headers: dict[str, str] | None = None,
        signer: Signer | None = None,
        observer: UpstreamObserver | None = None,
    ) -> None:
        self.session = session
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        base = URL(self.base_url)
        # For spans: where requests go, and the base path their URL templates start with.
        self.server = (base.host or "", base.explicit_port)
        self.base_path = base.path.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.parse_error = parse_error
        self.headers = headers or {}
        self.signer = signer
        self.observer = observer
        # Every call's line, rendered in one call (bench/worker_throughput.py).
        self._request_line = context_line_writer("expbridge.upstream")

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: list[tuple[str, str]] | None = None,
        idempotency_key: str | None = None,
        operation: str = "",
        template: str | None = None,
    ) -> UpstreamResponse:
        """`template`: the path with its placeholders (`/experiments/{id}`), for the span."""
        url_template = self.base_path + template if template is not None else None
        with spans.client_span(method, url_template, self.server, self.provider) as span:
            response = await self._send(
                method,
                path,
                json_body=json_body,
                params=params,
                idempotency_key=idempotency_key,
                operation=operation,
            )
            if span is not None:
                span.set_attribute("http.response.status_code", response.status)
            return response

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any,
        params: list[tuple[str, str]] | None,
        idempotency_key: str | None,
        operation: str,
    ) -> UpstreamResponse:
        url = self.base_url + path
        if params:
            url = str(URL(url).extend_query(params))
        body = b"" if json_body is None else orjson.dumps(json_body)
        headers = {"Accept": "application/json", **self.headers}
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        tracing.inject_headers(headers)  # traceparent: the provider sees our request span
        if self.signer is not None:  # signed last, over the exact bytes sent, on every attempt
            headers.update(self.signer(method, url, body))
        started = time.perf_counter()
        try:
            async with self.session.request(
                method,
                URL(url, encoded=True),
                data=body or None,
                headers=headers,
                timeout=self.timeout,
            ) as response:
                text = await response.text(errors="replace")
                status = response.status
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except TimeoutError as error:
            spans.current_outcome(False, "timeout", **{"error.type": "timeout"})
            self._observe(operation, None, started)
            raise TransientUpstreamError(self.provider, f"timed out: {method} {path}") from error
        except aiohttp.ClientError as error:
            spans.current_outcome(
                False, "connection failed", **{"error.type": type(error).__name__}
            )
            self._observe(operation, None, started)
            raise TransientUpstreamError(
                self.provider, f"connection failed: {type(error).__name__}"
            ) from error
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        self._observe(operation, status, started)
        self._request_line(
            "upstream request",
            {
                "provider": self.provider,
                "operation": operation,
                "method": method,
                "path": path,
                "upstream_status": status,
                "duration_ms": duration_ms,
            },
        )
        parsed = _parse_json(text)
        if 200 <= status < 300:
            if text.strip() and parsed is _INVALID:
                raise TransientUpstreamError(
                    self.provider,
                    "the upstream answered with malformed JSON",
                    status=status,
                    body=text,
                )
            return UpstreamResponse(status, None if parsed is _INVALID else parsed)
        code, message = self.parse_error(None if parsed is _INVALID else parsed, text)
        spans.current_outcome(
            False, None, **{"http.response.status_code": status, "error.type": str(status)}
        )
        raise error_for_status(
            self.provider, status, code=code, message=message, retry_after_s=retry_after, body=text
        )

    def _observe(self, operation: str, status: int | None, started: float) -> None:
        if self.observer is not None:
            status_class = f"{status // 100}xx" if status is not None else "error"
            self.observer(self.provider, operation, status_class, time.perf_counter() - started)


_INVALID: Any = object()


def _parse_json(text: str) -> Any:
    if not text.strip():
        return _INVALID
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:  # what orjson refuses and the json module reads (NaN, integers over 64 bits)
        return json.loads(text)
    except ValueError:
        return _INVALID
