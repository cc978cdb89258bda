"""The ingress' HTTP server against hostile clients (findings 5, 8, 9 and 10 of issue 10):
header-read, keep-alive and body-read timeouts, a connection cap, aiohttp's own parser errors
as problem+json that echo nothing, and a client that drops mid-body as an info line."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import structlog

from expbridge.config.logging import configure_logging
from expbridge.config.settings import Settings
from tests.conftest import SOURCE_TOKEN, Ingress, running_ingress
from tests.helpers import start_event, stored_event_count
from tests.raw_http import connect, post_bytes, raw_request, read_answer
from tests.scrape import sample, scrape

LIMITS = {
    "header_read_timeout_s": 0.5,
    "keepalive_timeout_s": 0.8,
    "body_read_timeout_s": 0.5,
    "max_connections": 8,
}


class LogSink(io.StringIO):
    """stdout for the process' logs while a test reads them. Loggers cached meanwhile keep
    writing here after the test (never closed, unlike pytest's capture), and it drops that."""

    def __init__(self) -> None:
        super().__init__()
        self.keep = True

    def write(self, text: str) -> int:
        return super().write(text) if self.keep else len(text)

    def close(self) -> None:
        self.keep = False


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    sink = LogSink()
    monkeypatch.setattr(sys, "stdout", sink)
    configure_logging("json", "INFO")

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in sink.getvalue().splitlines() if line[:1] == "{"]

    yield lines
    sink.keep = False
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


@pytest.fixture
async def guarded(make_settings: Callable[..., Settings]) -> AsyncIterator[Ingress]:
    async with running_ingress(make_settings(http=LIMITS)) as ingress:
        yield ingress


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> float:
    """How long until the server closed the connection (fails if it stays open)."""
    started = time.monotonic()
    async with asyncio.timeout(seconds):
        while await reader.read(1024):
            pass
    return time.monotonic() - started


async def test_a_connection_that_sends_nothing_is_closed(guarded: Ingress) -> None:
    reader, writer = await connect(guarded.base_url)
    assert await closed_within(reader, 3) >= 0.4
    writer.close()


async def test_half_a_header_and_a_slowloris_are_dropped(guarded: Ingress) -> None:
    reader, writer = await connect(guarded.base_url)
    writer.write(b"POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    assert await closed_within(reader, 3) < 2
    writer.close()

    # A slowloris: one byte every 50 ms, never the end of the headers.
    reader, writer = await connect(guarded.base_url)
    started = time.monotonic()
    drip = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: " + b"a" * 200
    dropped = False
    for byte in drip:
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:
            dropped = True
        await asyncio.sleep(0.05)
        if dropped or reader.at_eof():
            break
    assert time.monotonic() - started < 2
    writer.close()


async def test_the_header_deadline_counts_from_each_requests_first_byte(guarded: Ingress) -> None:
    reader, writer = await connect(guarded.base_url)
    # Whole requests for over twice the deadline: the connection is never cut off.
    for _ in range(6):
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = await read_answer(reader)
        assert answer is not None and answer.status == 200
        await asyncio.sleep(0.2)
    # Then half a request's headers: closed one deadline after its first byte, not sooner.
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
    assert 0.4 <= await closed_within(reader, 3) < 1.5
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed(guarded: Ingress) -> None:
    reader, writer = await connect(guarded.base_url)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = await read_answer(reader)
    assert answer is not None and answer.status == 200
    waited = await closed_within(reader, 3)
    assert 0.5 < waited < 2.5
    writer.close()


async def test_connections_over_the_cap_get_a_503_problem(guarded: Ingress) -> None:
    held = [await connect(guarded.base_url) for _ in range(LIMITS["max_connections"])]
    await asyncio.sleep(0.05)
    answer = await raw_request(guarded.base_url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer is not None and answer.status == 503
    assert answer.headers["content-type"] == "application/problem+json"
    for _, writer in held:
        writer.close()
    await asyncio.sleep(0.1)
    answer = await raw_request(guarded.base_url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer is not None and answer.status == 200


async def test_a_body_that_never_arrives_is_a_408(guarded: Ingress, settings: Settings) -> None:
    reader, writer = await connect(guarded.base_url)
    body = json.dumps(start_event("exp_1")).encode()
    request = post_bytes(
        "/v1/events",
        {"Authorization": f"Bearer {SOURCE_TOKEN}", "Content-Type": "application/json"},
        body,
    )
    writer.write(request[: -len(body) + 5])
    answer = await read_answer(reader, wait_s=3)
    assert answer is not None and answer.status == 408
    assert answer.headers["content-type"] == "application/problem+json"
    writer.close()
    assert await stored_event_count(settings) == 0


async def test_an_over_long_bearer_token_is_a_problem_that_echoes_nothing(
    ingress: Ingress, json_logs: Callable[[], list[dict[str, Any]]]
) -> None:
    token = "tok-" + "a" * 9000
    request = post_bytes("/v1/events", {"Authorization": f"Bearer {token}"}, b"{}")
    answer = await raw_request(ingress.base_url, request)
    assert answer is not None and answer.status == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 400
    assert b"aaaa" not in answer.body
    logged = json.dumps(json_logs())
    assert "aaaa" not in logged and "malformed request refused" in logged


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Big": "b" * 64 * 1024},
        {f"X-Many-{n}": "1" for n in range(5000)},
    ],
)
async def test_huge_or_many_headers_are_problem_json(
    ingress: Ingress, headers: dict[str, str]
) -> None:
    answer = await raw_request(ingress.base_url, post_bytes("/v1/events", headers, b"{}"))
    assert answer is not None and answer.status == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert b"bbbb" not in answer.body


async def test_a_client_that_drops_mid_body_is_an_info_line_not_a_500(
    ingress: Ingress, settings: Settings, json_logs: Callable[[], list[dict[str, Any]]]
) -> None:
    body = json.dumps(start_event("exp_1")).encode()
    request = post_bytes(
        "/v1/events",
        {"Authorization": f"Bearer {SOURCE_TOKEN}", "Content-Type": "application/json"},
        body,
    )
    _, writer = await connect(ingress.base_url)
    writer.write(request[: -len(body) + 5])
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()
    await asyncio.sleep(0.3)
    lines = json_logs()
    disconnected = [line for line in lines if line["event"] == "client disconnected"]
    assert disconnected and disconnected[0]["level"] == "info"
    assert not [line for line in lines if line["level"] in ("error", "critical")]
    text = await scrape(ingress.url("/metrics"))
    received = "expbridge_events_received_total"
    assert sample(text, received, status_class="5xx") == 0
    assert sample(text, received, status_class="4xx") == 1
    assert await stored_event_count(settings) == 0
