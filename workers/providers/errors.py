"""Upstream failures, classified once: transient ones retry, permanent ones go to dead."""

from __future__ import annotations

import email.utils
import re
import time

RETRYABLE_STATUSES = frozenset({408, 425, 429})
BODY_LIMIT = 500
_SECRETISH = re.compile(r"(?i)(sk_|test_sk_|whsec_|bearer\s+)[A-Za-z0-9._~+/=-]+")


def redact_body(text: str | None) -> str | None:
    """Upstream bodies go into records and logs: cut them short and mask anything key-like."""
    if text is None:
        return None
    masked = _SECRETISH.sub(lambda m: m.group(1) + "[redacted]", text)
    return masked if len(masked) <= BODY_LIMIT else masked[:BODY_LIMIT] + "…"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class UpstreamError(Exception):
    transient = False

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after_s: float | None = None,
        body: str | None = None,
    ) -> None:
        message = redact_body(message) or ""
        super().__init__(message)
        self.provider = provider
        self.message = message
        self.status = status
        self.code = code
        self.retry_after_s = retry_after_s
        self.body = redact_body(body)

    @property
    def kind(self) -> str:
        return type(self).__name__


class TransientUpstreamError(UpstreamError):
    """Connection errors, timeouts, 408, 425, 429, 5xx, a garbled success body: try again."""

    transient = True

    @property
    def rate_limited(self) -> bool:
        return self.status == 429


class PermanentUpstreamError(UpstreamError):
    """Other 4xx: sending the same request again cannot succeed."""


class AuthUpstreamError(PermanentUpstreamError):
    """401/403: our credentials are wrong; an operator must act."""


def error_for_status(
    provider: str,
    status: int,
    *,
    code: str | None,
    message: str,
    retry_after_s: float | None,
    body: str | None,
) -> UpstreamError:
    cls: type[UpstreamError]
    if status in RETRYABLE_STATUSES or status >= 500:
        cls = TransientUpstreamError
    elif status in (401, 403):
        cls = AuthUpstreamError
    else:
        cls = PermanentUpstreamError
    return cls(provider, message, status=status, code=code, retry_after_s=retry_after_s, body=body)
