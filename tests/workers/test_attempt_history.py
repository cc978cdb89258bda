"""What the status record keeps of each attempt: the step's start and end, and the attempts
that did not succeed (the event page's timeline is drawn from them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from redis import asyncio as aioredis

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.record import ATTEMPT_ERROR_CHARS, ATTEMPTS_KEPT, ErrorInfo, EventRecord
from tests.conftest import running_ingress
from tests.helpers import add_fault, run_worker_burst, seed_experiment, start_event

STATUS_PATH = "/qonversion/v4/experiments/exp_h/status"


async def one_event(settings: Settings, sandbox: Any) -> tuple[dict[str, Any], str]:
    """The API's record of one start event carried out, and the record as stored."""
    async with running_ingress(settings) as ingress:
        response = await ingress.post_event(start_event("exp_h"))
        assert response.status == 202
        event_id = (await response.json())["id"]
        await run_worker_burst(settings)
        public = await ingress.get_record(event_id)
    redis = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        stored = await redis.get(keys.event(event_id))
    finally:
        await redis.aclose()
    return public, stored.decode()


async def test_a_success_keeps_its_step_duration_and_no_attempt_list(
    make_settings: Callable[..., Settings], sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_h")
    public, stored = await one_event(make_settings(), sandbox)
    assert public["status"] == "succeeded" and public["failed_attempts"] == []
    (step,) = public["steps"]
    started, finished = (datetime.fromisoformat(step[k]) for k in ("started_at", "finished_at"))
    assert started <= finished
    assert datetime.fromisoformat(public["received_at"]) <= started
    assert "failed_attempts" not in stored  # an empty list is not stored


async def test_retries_then_success_keep_each_failed_attempt(
    make_settings: Callable[..., Settings], sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_h")
    await add_fault(sandbox.url, path_prefix=STATUS_PATH, count=2, status=503)
    settings = make_settings(retry={"base_delay_s": 0.05, "max_delay_s": 0.1})
    public, _ = await one_event(settings, sandbox)
    assert public["status"] == "succeeded" and public["attempts"] == 3
    first, second = public["failed_attempts"]
    assert [first["attempt"], second["attempt"]] == [1, 2]
    for entry in (first, second):
        assert entry["outcome"] == "retrying" and entry["upstream_status"] == 503
        assert entry["step"] == "qonversion.set_status"
        assert "503" in entry["error"]
        assert entry["started_at"] <= entry["ended_at"] <= entry["next_attempt_at"]
    assert first["next_attempt_at"] <= second["started_at"]
    (step,) = public["steps"]
    assert second["ended_at"] <= step["started_at"] <= step["finished_at"]


async def test_a_permanent_failure_is_kept_as_the_dead_attempt(
    make_settings: Callable[..., Settings], sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_h")
    await add_fault(sandbox.url, path_prefix=STATUS_PATH, count=1, status=422)
    public, _ = await one_event(make_settings(), sandbox)
    (dead,) = public["failed_attempts"]
    assert dead["outcome"] == "dead" and dead["upstream_status"] == 422
    assert dead["attempt"] == 1 and "next_attempt_at" in dead
    assert dead["next_attempt_at"] is None


def test_the_list_and_each_error_are_bounded() -> None:
    record = EventRecord(id="evt_1", type="experiment.start", source="s", target="t")
    error = ErrorInfo(kind="transient", message="x" * 1000, upstream_status=503)
    for attempt in range(1, ATTEMPTS_KEPT + 6):
        record.attempts = attempt
        record.note_failed_attempt(record.received_at, "retrying", error)
    assert len(record.failed_attempts) == ATTEMPTS_KEPT
    assert record.failed_attempts[0].attempt == 6  # the oldest dropped first
    assert all(len(a.error or "") == ATTEMPT_ERROR_CHARS for a in record.failed_attempts)
