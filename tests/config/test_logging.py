"""Logs: JSON lines carrying the request's context, stdlib loggers rendered alike, no secrets."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import structlog

from expbridge.config.logging import (
    configure_logging,
    context_line_writer,
    info_line_writer,
    scrub_text,
)


def lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


@pytest.fixture(autouse=True)
def reset_structlog() -> Any:
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    logging.getLogger().handlers.clear()


def test_context_is_bound_for_structlog_and_stdlib_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "INFO")
    structlog.contextvars.bind_contextvars(
        event_id="evt_1", source="growth", type="experiment.start"
    )
    structlog.get_logger("expbridge.test").info("hello", upstream_status=200)
    logging.getLogger("arq.worker").info("job %s started", "evt_1.1")
    out = lines(capsys.readouterr().out)
    assert [line["event"] for line in out] == ["hello", "job evt_1.1 started"]
    for line in out:
        assert line["event_id"] == "evt_1" and line["source"] == "growth"
        assert line["level"] == "info" and "timestamp" in line
    assert out[1]["logger"] == "arq.worker"


def test_credential_fields_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "INFO")
    structlog.get_logger("t").info(
        "oops", token="tok_123", authorization="Bearer x", app_secret="s"
    )
    out = capsys.readouterr().out
    assert "tok_123" not in out and "Bearer x" not in out and '"s"' not in out
    assert lines(out)[0]["token"] == "[redacted]"


def test_credentials_inside_text_are_redacted_in_library_lines_and_tracebacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """aiohttp's "Error handling request" quotes the header it could not parse; a traceback
    may carry a provider key. The filter covers every line, ours and the libraries'."""
    configure_logging("json", "INFO")
    try:
        raise ValueError("Got more than 8190 bytes when reading: b'Bearer tok-secret-aaaa'")
    except ValueError:
        logging.getLogger("aiohttp.server").exception("Error handling request from %s", "::1")
    logging.getLogger("arq.worker").error("posting to https://hooks.slack.com/services/T/B/XYZ")
    structlog.get_logger("expbridge.t").warning(
        "upstream said", detail="key test_sk_live_123 refused; whsec_abc123; v1,c2lnbmF0dXJl"
    )
    out = capsys.readouterr().out
    for secret in ("tok-secret-aaaa", "services/T/B/XYZ", "live_123", "abc123", "c2lnbmF0dXJl"):
        assert secret not in out
    assert out.count("[redacted]") >= 5
    assert "Error handling request from ::1" in out
    assert out.count("[redacted]") >= 5
    assert "Error handling request from ::1" in out


def test_arq_job_start_and_end_lines_are_left_out_its_others_stay(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "INFO")
    arq_log = logging.getLogger("arq.worker")
    arq_log.info("%6.2fs → %s(%s)%s", 0.01, "evt_1.1:process_event", "'evt_1', 1", "")
    arq_log.info("%6.2fs ← %s ● %s", 0.02, "evt_1.1:process_event", "'succeeded'")
    arq_log.info("%6.2fs ↻ %s retrying job in %0.2fs", 0.02, "evt_1.1:process_event", 1.0)
    out = lines(capsys.readouterr().out)
    retry_line = "  0.02s ↻ evt_1.1:process_event retrying job in 1.00s"
    assert [line["event"] for line in out] == [retry_line]


def test_a_hot_paths_direct_line_is_the_line_structlog_writes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The accept route renders its request line itself (info_line_writer): the same fields
    as structlog's chain gives the same line, a scrubbed target stays scrubbed, and below the
    configured level nothing is written."""
    configure_logging("json", "INFO")
    fields = {"method": "POST", "path": "/v1/events", "status": 202, "duration_ms": 1.5}
    structlog.get_logger("expbridge.service").info("request", **fields)
    info_line_writer("expbridge.service")(
        "request", {**fields, "target": scrub_text("qonversion:whsec_abc123")}
    )
    through_structlog, direct = lines(capsys.readouterr().out)
    assert through_structlog.pop("timestamp")[:10] == direct.pop("timestamp")[:10]
    assert direct.pop("target") == "qonversion:whsec_[redacted]"
    assert direct == through_structlog
    configure_logging("json", "WARNING")
    info_line_writer("expbridge.service")("request", dict(fields))
    assert capsys.readouterr().out == ""


def test_off_a_tty_or_before_configuration_the_direct_line_goes_through_structlog(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("console", "INFO")
    info_line_writer("expbridge.service")("request", {"status": 202})
    out = capsys.readouterr().out
    assert "request" in out and "202" in out and not out.startswith("{")


def test_a_worker_line_in_context_is_the_line_structlog_writes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The worker's per-event lines (context_line_writer) carry the bound context like any
    line, and a credential in the context or the fields is scrubbed as structlog's chain
    scrubs it."""
    configure_logging("json", "INFO")
    structlog.contextvars.bind_contextvars(
        event_id="evt_1", source="growth", target="qonversion:exp_1", step="qonversion.x"
    )
    fields = {"status": "succeeded", "duration_ms": 2.5, "upstream_status": None}
    structlog.get_logger("expbridge.worker").info("job attempt", **fields)
    context_line_writer("expbridge.worker")("job attempt", dict(fields))
    structlog.contextvars.bind_contextvars(target="qonversion:whsec_abc123")
    structlog.get_logger("expbridge.worker").info("job attempt", api_key="k", **fields)
    context_line_writer("expbridge.worker")("job attempt", {"api_key": "k", **fields})
    through_structlog, direct, scrubbed_by_structlog, scrubbed = lines(capsys.readouterr().out)
    for expected, line in ((through_structlog, direct), (scrubbed_by_structlog, scrubbed)):
        assert expected.pop("timestamp")[:10] == line.pop("timestamp")[:10]
        assert line == expected
    assert scrubbed["target"] == "qonversion:whsec_[redacted]"
    assert scrubbed["api_key"] == "[redacted]"
