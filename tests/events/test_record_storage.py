"""The stored status record: no nulls, the upstream result once (in its step), and the API's
record unchanged (the result shown at the top, nulls included)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
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


def _validated_bytes(record: EventRecord) -> bytes:
    """What pydantic's serializer stores for `record` (stored_json's slow path)."""
    exclude = {"result", "failed_attempts"} if not record.failed_attempts else {"result"}
    return record.__pydantic_serializer__.to_json(record, exclude_none=True, exclude=exclude)


PLAIN_RECORDS = [
    {"data": {"target": {"provider": "qonversion", "experiment_id": "exp_1"}}},
    {
        "status": "scheduled",
        "not_before": datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC),
        "producer_id": "p-1",
        "time": datetime(2026, 12, 1, 10, 0, 0, 123000, tzinfo=timezone(timedelta(hours=2))),
        "data": {"target": {"provider": "convert", "experience_id": 7}, "note": 'é ✓ "q"'},
        "reply_to": "https://hooks.slack.com/x",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "trace_context": {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71-01"},
    },
    {"data": {"f": 1e-7, "g": 1.5e300, "n": None, "deep": [{"x": [None, 2, 0.5]}], "b": True}},
    {"data": {"big": 2**64}},  # beyond what orjson writes: the slow path
]


@pytest.mark.parametrize("fields", PLAIN_RECORDS)
def test_a_new_events_record_is_stored_as_pydantic_would_store_it(fields: dict[str, Any]) -> None:
    """A record of plain values takes orjson's path: the same bytes, read back the same."""
    now = datetime.now(UTC)
    rest = {k: v for k, v in fields.items() if k != "data"}
    common = {"id": "evt_1", "type": "experiment.start", "source": "s", "target": "q:e"}
    trusted = EventRecord.trusted(now, now, fields["data"], **common, **rest)
    validated = EventRecord(received_at=now, updated_at=now, **common, **fields)
    assert trusted == validated
    assert trusted.stored_json() == _validated_bytes(validated)
    assert EventRecord.model_validate_json(trusted.stored_json()) == validated


def test_a_trusted_record_takes_only_the_models_fields() -> None:
    now = datetime.now(UTC)
    with pytest.raises(TypeError, match="colour"):
        EventRecord.trusted(now, now, {}, id="e", type="t", source="s", target="q", colour="red")
