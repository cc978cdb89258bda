"""The stored status record: no nulls, the upstream result once (in its step), and the API's
record unchanged (the result shown at the top, nulls included)."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.record import EventRecord, StepRecord
from tests.helpers import carry_out, seed_experiment, start_event


def test_the_result_is_stored_in_its_step_and_read_back_at_the_top() -> None:
    record = EventRecord(
        id="evt_1",
        type="experiment.start",
        source="s",
        target="qonversion:e",
        steps=[
            StepRecord(name="a", status="done", idempotency_key="k.a", result={"first": None}),
            StepRecord(name="b", status="done", idempotency_key="k.b", result={"id": "e"}),
        ],
    )
    record.result = record.steps[-1].result
    stored = record.stored_json().decode()
    assert stored.count('"id":"e"') == 1 and ":null" not in stored.replace('"first":null', "")
    again = EventRecord.model_validate_json(stored)
    assert again.result == {"id": "e"}
    assert again.steps[0].result == {"first": None}  # nulls inside an upstream answer stay
    assert again.public() == record.public()


def test_before_any_step_is_done_there_is_no_result() -> None:
    pending = StepRecord(name="a", idempotency_key="k.a")
    record = EventRecord(id="evt_1", type="t", source="s", target="q:e", steps=[pending])
    assert EventRecord.model_validate_json(record.stored_json()).result is None


async def test_a_finished_event_is_stored_without_nulls_and_with_its_result_once(
    ingress: Any, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_store")
    shown = await carry_out(ingress, settings, start_event("exp_store"))
    assert shown["status"] == "succeeded" and shown["result"] is not None
    assert shown["next_attempt_at"] is None and shown["last_error"] is None  # the API keeps nulls
    redis = Redis.from_url(settings.redis_url)
    try:
        raw = (await redis.get(keys.event(shown["id"]))).decode()
    finally:
        await redis.aclose()
    stored = json.loads(raw)
    # No nulls anywhere: the record, its steps, and the upstream object as the provider sent it.
    assert None not in stored.values() and "result" not in stored
    assert all(None not in step.values() for step in stored["steps"])
    assert "null" not in raw and raw.count('"result"') == 1
    assert EventRecord.model_validate_json(raw).result == shown["result"]
