from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from expbridge.workers.providers.errors import (
    AuthUpstreamError,
    PermanentUpstreamError,
    TransientUpstreamError,
    error_for_status,
    parse_retry_after,
    redact_body,
)
from expbridge.workers.providers.qonversion.client import parse_qonversion_error


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (408, TransientUpstreamError),
        (425, TransientUpstreamError),
        (429, TransientUpstreamError),
        (500, TransientUpstreamError),
        (503, TransientUpstreamError),
        (400, PermanentUpstreamError),
        (404, PermanentUpstreamError),
        (409, PermanentUpstreamError),
        (422, PermanentUpstreamError),
        (401, AuthUpstreamError),
        (403, AuthUpstreamError),
    ],
)
def test_statuses_are_classified(status: int, cls: type) -> None:
    error = error_for_status("p", status, code=None, message="m", retry_after_s=None, body=None)
    assert type(error) is cls


def test_retry_after_in_seconds_or_http_date() -> None:
    assert parse_retry_after("120") == 120
    when = datetime.now(UTC) + timedelta(seconds=30)
    parsed = parse_retry_after(format_datetime(when, usegmt=True))
    assert parsed is not None and 28 <= parsed <= 31
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_bodies_are_truncated_and_key_like_strings_masked() -> None:
    body = redact_body('{"error": "bad key sk_live_abcdef123"}' + "x" * 1000)
    assert body is not None and "sk_live_abcdef123" not in body
    assert len(body) <= 501


def test_qonversion_error_shape_is_parsed() -> None:
    parsed = {
        "error": {
            "type": "request",
            "code": "validation_failed",
            "message": "Invalid body",
            "details": [{"field": "alias_id", "message": "too long"}],
        }
    }
    code, message = parse_qonversion_error(parsed, "")
    assert code == "validation_failed"
    assert "alias_id: too long" in message
    assert parse_qonversion_error(None, "<html>502</html>") == (None, "<html>502</html>")
