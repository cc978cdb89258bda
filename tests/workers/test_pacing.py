"""Pacing, the 429 slow-down and the circuit breaker, shared through Redis, seen by the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from expbridge.config.settings import Settings
from tests.conftest import running_ingress
from tests.helpers import (
    add_fault,
    parse_time,
    run_worker_burst,
    sandbox_requests,
    seed_experiment,
    start_event,
)


@pytest.fixture
def paced(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def make(**qonversion_pace: Any) -> Settings:
        return make_settings(pace={"qonversion": qonversion_pace}, worker={"max_jobs": 20})

    return make


async def accept_many(settings: Settings, sandbox: Any, count: int) -> list[str]:
    ids = []
    async with running_ingress(settings) as ingress:
        for n in range(count):
            await seed_experiment(sandbox.url, f"exp_g{n}")
            response = await ingress.post_event(start_event(f"exp_g{n}"))
            ids.append((await response.json())["id"])
    return ids


async def records(settings: Settings, ids: list[str]) -> AsyncIterator[dict[str, Any]]:
    async with running_ingress(settings) as ingress:
        for event_id in ids:
            yield await ingress.get_record(event_id)


async def arrival_times(sandbox: Any) -> list[float]:
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/")
    return sorted(parse_time(c["time"]) for c in calls if c["method"] == "POST")


async def test_requests_per_second_is_kept(paced: Callable[..., Settings], sandbox: Any) -> None:
    settings = paced(requests_per_second=5)
    ids = await accept_many(settings, sandbox, 8)
    await run_worker_burst(settings)
    async for record in records(settings, ids):
        assert record["status"] == "succeeded" and record["attempts"] == 1
    times = await arrival_times(sandbox)
    # A burst of one second's worth (5), then one every 0.2 s.
    assert times[-1] - times[0] >= (8 - 5) * 0.2 - 0.05


async def test_concurrency_is_capped(paced: Callable[..., Settings], sandbox: Any) -> None:
    settings = paced(max_concurrency=2, requests_per_second=1000)
    await add_fault(sandbox.url, path_prefix="/qonversion/v4/experiments/", delay_s=0.3)
    ids = await accept_many(settings, sandbox, 6)
    await run_worker_burst(settings)
    async for record in records(settings, ids):
        assert record["status"] == "succeeded"
    times = await arrival_times(sandbox)
    # Two at a time, each held 0.3 s: the 3rd starts after the 1st ends, the 5th after the 3rd.
    assert times[2] - times[0] >= 0.28 and times[4] - times[2] >= 0.28


async def test_a_429_slows_every_event_for_that_provider(
    paced: Callable[..., Settings], sandbox: Any
) -> None:
    # One at a time, so every later request starts after the 429 came back.
    settings = paced(requests_per_second=1000, max_concurrency=1)
    settings.retry.max_delay_s = 5.0
    await add_fault(
        sandbox.url,
        path_prefix="/qonversion/v4/experiments/exp_g0/status",
        count=1,
        status=429,
        retry_after="1",
    )
    ids = await accept_many(settings, sandbox, 4)
    await run_worker_burst(settings)
    async for record in records(settings, ids):
        assert record["status"] == "succeeded"
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/")
    limited = next(c for c in calls if c["status"] == 429)
    later = [c for c in calls if c["seq"] > limited["seq"]]
    assert later, "other events went on after the 429"
    # Requests that started after the 429 waited for its Retry-After, whichever event they were.
    waited = min(parse_time(c["time"]) for c in later) - parse_time(limited["time"])
    assert waited >= 0.9


async def test_circuit_breaker_opens_waits_and_probes(
    paced: Callable[..., Settings], sandbox: Any
) -> None:
    # One request at a time, so the breaker's view is not raced by requests already in flight.
    settings = paced(
        breaker_failures=3, breaker_cooldown_s=1.0, requests_per_second=1000, max_concurrency=1
    )
    await add_fault(sandbox.url, path_prefix="/qonversion/v4/experiments/", count=3, status=503)
    ids = await accept_many(settings, sandbox, 6)
    await run_worker_burst(settings)
    attempts = []
    async for record in records(settings, ids):
        assert record["status"] == "succeeded", record
        attempts.append(record["attempts"])
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/")
    statuses = [c["status"] for c in calls if c["method"] == "POST"]
    assert statuses[:3] == [503, 503, 503]
    # After the third failure nothing was sent during the cool-down; then one probe went first.
    third, probe = calls[2], calls[3]
    assert parse_time(probe["time"]) - parse_time(third["time"]) >= 0.95
    assert probe["status"] == 200
    # Waiting behind an open circuit used no attempts: 6 events, 3 failures in all.
    assert sum(attempts) == 6 + 3
