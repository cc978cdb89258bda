"""Counting and listing stored events by status (the console's counts, ?status=) against a
real Redis: the fast read of each record's own status, nested statuses never mistaken for it,
odd records read the long way, unreadable ones left out, and the time range."""

from __future__ import annotations

from datetime import timedelta

import redis.asyncio as aioredis

from expbridge.events import keys
from expbridge.events.record import EventRecord, StepRecord, utcnow
from expbridge.events.store.listing import EventFilter, event_page, status_counts


def stored(n: int, status: str, **fields: object) -> EventRecord:
    return EventRecord.model_validate(
        {
            "id": f"evt_{n:032x}",
            "type": "experiment.start",
            "source": "growth",
            "target": f"convert:{n}",
            "status": status,
            **fields,
        }
    )


async def test_counts_each_records_own_status(redis_url: str) -> None:
    now = utcnow()
    running_step = StepRecord(
        name="convert.set_status",
        status="done",
        idempotency_key="k",
        result={"status": "running"},  # an upstream object's status: not the event's
    )
    records = [
        stored(1, "succeeded", steps=[running_step]),
        stored(2, "succeeded", source='say "status":"dead"'),  # escaped in the JSON
        stored(3, "dead"),
        stored(4, "queued", received_at=now - timedelta(hours=2)),
    ]
    redis = aioredis.Redis.from_url(redis_url)
    try:
        for record in records:
            await redis.set(keys.event(record.id), record.stored_json())
            score = int(record.received_at.timestamp() * 1000)
            await redis.zadd(keys.EVENT_INDEX, {record.id: score})
        # Written another way (its keys in another order): still its own status.
        reordered = '{"steps":[{"name":"s","status":"done","idempotency_key":"k"}],'
        reordered += '"status":"retrying","id":"evt_5","type":"experiment.start",'
        reordered += '"source":"growth","target":"convert:5"}'
        await redis.set(keys.event("evt_5"), reordered)
        await redis.set(keys.event("evt_6"), b"\xff not json")  # unreadable: not counted
        await redis.zadd(keys.EVENT_INDEX, {"evt_5": 1, "evt_6": 2, "evt_gone": 3})
        counts = await status_counts(redis)
        assert counts == {"succeeded": 2, "dead": 1, "queued": 1, "retrying": 1}
        recent = await status_counts(redis, since=now - timedelta(minutes=1))
        assert recent == {"succeeded": 2, "dead": 1}
        # Listing by status passes over the others unparsed, and parses what it cannot tell.
        for status, wanted in [("succeeded", {1, 2}), ("retrying", {5}), ("running", set())]:
            page = await event_page(redis, EventFilter(status=status), limit=10)
            assert {int(r.id.removeprefix("evt_"), 16) for r in page.records} == wanted
    finally:
        await redis.aclose()
