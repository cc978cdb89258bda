"""Re-queue dead events: they go to the back of their target's line; done steps stay done."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from redis.asyncio import Redis

from expbridge.events import keys
from expbridge.events.record import EventRecord, utcnow
from expbridge.events.store.queue import QueueScripts
from expbridge.events.store.records import parse_record

ReplayOutcome = Literal["requeued", "not_dead", "missing"]


def requeued(record: EventRecord) -> EventRecord:
    """The record as it starts again: a fresh attempt budget, its done steps kept."""
    now = utcnow()
    steps = [
        step if step.status == "done" else step.model_copy(update={"status": "pending"})
        for step in record.steps
    ]
    return record.model_copy(
        update={
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": None,
            "updated_at": now,
            "requeued_at": now,
            "replays": record.replays + 1,
            "steps": steps,
        }
    )


@dataclass
class BulkReplay:
    replayed: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


class Replayer:
    def __init__(self, redis: Redis, queue_name: str, job_expiry_ms: int) -> None:
        self.redis = redis
        self.scripts = QueueScripts(redis, queue_name)
        self.job_expiry_ms = job_expiry_ms

    async def replay(self, event_id: str) -> ReplayOutcome:
        raw = await self.redis.get(keys.event(event_id))
        if raw is None:
            return "missing"
        record = parse_record(raw)
        if record is None:
            return "missing"
        if record.status != "dead":
            return "not_dead"
        done = await self.scripts.requeue_dead(
            keys=self.scripts.finish_keys(record.id, record.target),
            args=[
                record.id,
                requeued(record).stored_json(),
                int(time.time() * 1000),
                self.job_expiry_ms,
            ],
        )
        return "requeued" if done == 1 else "not_dead"

    async def replay_many(self, event_ids: list[str]) -> BulkReplay:
        """Each of the events in turn; what became of each (POST /v1/dead-letters/replay, the
        console's dead-letter page)."""
        outcome = BulkReplay()
        for event_id in event_ids:
            result = await self.replay(event_id)
            (outcome.replayed if result == "requeued" else outcome.skipped).append(
                {"id": event_id, "outcome": result}
            )
        return outcome
