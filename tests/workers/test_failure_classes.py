"""Each class of upstream failure, shown against the sandbox's fault injection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from expbridge.config.settings import Settings
from tests.conftest import Ingress, running_ingress
from tests.helpers import (
    add_fault,
    parse_time,
    qonversion_experiment,
    run_worker_burst,
    sandbox_requests,
    seed_experiment,
    start_event,
)

STATUS_PATH = "/qonversion/v4/experiments/exp_f/status"


async def run_one(ingress: Ingress, settings: Settings, sandbox: Any) -> dict[str, Any]:
    response = await ingress.post_event(start_event("exp_f"))
    assert response.status == 202
    event_id = (await response.json())["id"]
    await run_worker_burst(settings)
    return await ingress.get_record(event_id)


async def status_calls(sandbox: Any) -> list[dict[str, Any]]:
    return await sandbox_requests(sandbox.url, STATUS_PATH)


@pytest.fixture
async def experiment(sandbox: Any) -> None:
    await seed_experiment(sandbox.url, "exp_f")


@pytest.mark.parametrize(
    ("fault", "label"),
    [
        ({"status": 503}, "5xx"),
        ({"status": 500, "body": "<html>oops</html>", "content_type": "text/html"}, "5xx html"),
        ({"status": 408}, "408"),
        ({"drop": True}, "dropped connection"),
        ({"status": 200, "body": "{not json", "content_type": "application/json"}, "bad JSON"),
    ],
)
async def test_transient_failures_retry_then_succeed(
    ingress: Ingress,
    settings: Settings,
    sandbox: Any,
    experiment: None,
    fault: dict[str, Any],
    label: str,
) -> None:
    await add_fault(sandbox.url, path_prefix=STATUS_PATH, count=2, **fault)
    record = await run_one(ingress, settings, sandbox)
    assert record["status"] == "succeeded", (label, record)
    assert record["attempts"] == 3
    calls = await status_calls(sandbox)
    assert len(calls) == 3
    # Every attempt of the step carried the same idempotency key.
    assert len({c["idempotency_key"] for c in calls}) == 1
    assert (await qonversion_experiment(sandbox.url, "exp_f"))["status"] == "active"


async def test_timeout_retries(
    make_settings: Callable[..., Settings], sandbox: Any, experiment: None
) -> None:
    settings = make_settings(worker={"upstream_timeout_s": 0.3})
    async with running_ingress(settings) as ingress:
        await add_fault(sandbox.url, path_prefix=STATUS_PATH, count=1, delay_s=1.0)
        record = await run_one(ingress, settings, sandbox)
    assert record["status"] == "succeeded" and record["attempts"] == 2


async def test_429_with_retry_after_waits_that_long(
    make_settings: Callable[..., Settings], sandbox: Any, experiment: None
) -> None:
    settings = make_settings(retry={"max_delay_s": 5.0, "rate_limited_floor_s": 0.1})
    async with running_ingress(settings) as ingress:
        await add_fault(sandbox.url, path_prefix=STATUS_PATH, count=1, status=429, retry_after="1")
        record = await run_one(ingress, settings, sandbox)
    assert record["status"] == "succeeded"
    first, second = await status_calls(sandbox)
    assert parse_time(second["time"]) - parse_time(first["time"]) >= 0.95


async def test_429_without_retry_after_waits_the_floor(
    make_settings: Callable[..., Settings], sandbox: Any, experiment: None
) -> None:
    settings = make_settings(retry={"base_delay_s": 0.01, "rate_limited_floor_s": 0.6})
    async with running_ingress(settings) as ingress:
        await add_fault(sandbox.url, path_prefix=STATUS_PATH, count=1, status=429)
        record = await run_one(ingress, settings, sandbox)
    assert record["status"] == "succeeded"
    first, second = await status_calls(sandbox)
    assert parse_time(second["time"]) - parse_time(first["time"]) >= 0.55


@pytest.mark.parametrize("status", [400, 404, 409, 422])
async def test_permanent_4xx_goes_straight_to_dead(
    ingress: Ingress, settings: Settings, sandbox: Any, experiment: None, status: int
) -> None:
    body = '{"error": {"type": "request", "code": "nope", "message": "bad key sk_live_123456"}}'
    await add_fault(sandbox.url, path_prefix=STATUS_PATH, count=1, status=status, body=body)
    record = await run_one(ingress, settings, sandbox)
    assert record["status"] == "dead" and record["attempts"] == 1
    error = record["last_error"]
    assert error["upstream_status"] == status and error["code"] == "nope"
    assert "sk_live_123456" not in str(record)  # redacted
    assert len(await status_calls(sandbox)) == 1


async def test_retries_give_up_after_max_attempts(
    make_settings: Callable[..., Settings], sandbox: Any, experiment: None
) -> None:
    settings = make_settings(retry={"max_attempts": 3})
    async with running_ingress(settings) as ingress:
        await add_fault(sandbox.url, path_prefix=STATUS_PATH, status=503)
        record = await run_one(ingress, settings, sandbox)
    assert record["status"] == "dead" and record["attempts"] == 3
    assert "gave up after 3 attempts" in record["last_error"]["message"]
    assert record["last_error"]["upstream_status"] == 503
