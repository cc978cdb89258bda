"""Scheduled events: a sorted set by due time, outside the lines, so they block nothing.

Every worker polls it (`workers/due_events.py`); each due event is moved to the back of its
target's line by one PROMOTE_DUE script run, which claims it (ZREM), so it runs once however
many workers poll. Unscheduled events never touch the set: the accept path is unchanged.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.callbacks import Callbacks
from expbridge.events.record import EventRecord, utcnow
from expbridge.events.store.queue import QueueScripts

BATCH = 500


def _due_order(record: EventRecord | None) -> tuple[float, float]:
    if record is None:
        return (0.0, 0.0)
    due = record.not_before or record.received_at
    return (due.timestamp(), record.received_at.timestamp())


class DueEvents:
    def __init__(
        self, redis: Redis, settings: Settings, callbacks: Callbacks | None = None
    ) -> None:
        self.redis = redis
        # The source's `due` callbacks, queued once the event is in its line.
        self.callbacks = callbacks
        self.scripts = QueueScripts(redis, settings.queue_name)
        self.job_expiry_ms = settings.job_expiry_ms

    async def promote(self) -> list[str]:
        """Move every event due by now into its line; the ids this call moved. Events due in
        one poll join their lines by due time, then in the order they were accepted."""
        now_ms = int(time.time() * 1000)
        due = [m.decode() for m in await self.redis.zrangebyscore(keys.SCHEDULED, "-inf", now_ms)]
        found: list[tuple[str, bytes | None, EventRecord | None]] = []
        for start in range(0, len(due), BATCH):
            ids = due[start : start + BATCH]
            raws = await self.redis.mget([keys.event(event_id) for event_id in ids])
            found += [
                (event_id, raw, EventRecord.model_validate_json(raw) if raw else None)
                for event_id, raw in zip(ids, raws, strict=True)
            ]
        found.sort(key=lambda item: _due_order(item[2]))
        moved = []
        for event_id, raw, record in found:
            if await self._promote_one(event_id, raw, record, now_ms):
                moved.append(event_id)
        return moved

    async def _promote_one(
        self, event_id: str, raw: bytes | None, record: EventRecord | None, now_ms: int
    ) -> bool:
        if raw is None or record is None or record.status != "scheduled":
            # No record to queue (it cannot be, short of someone deleting keys): let it go.
            await self.redis.zrem(keys.SCHEDULED, event_id)
            return False
        queued = record.model_copy(update={"status": "queued", "updated_at": utcnow()})
        moved = await self.scripts.promote_due(
            keys=[
                keys.SCHEDULED,
                keys.event(event_id),
                keys.order(record.target),
                self.scripts.queue_name,
                keys.dispatch_counter(event_id),
            ],
            args=[event_id, raw, queued.stored_json(), now_ms, self.job_expiry_ms],
        )
        if moved and self.callbacks is not None:
            await self.callbacks.event_outcome(queued, "due")
        return bool(moved)
