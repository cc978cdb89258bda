"""Reading and writing status records in Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from expbridge.events import keys
from expbridge.events.record import EventRecord


class EventStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def get(self, event_id: str) -> EventRecord | None:
        raw = await self.redis.get(keys.event(event_id))
        return EventRecord.model_validate_json(raw) if raw is not None else None

    async def save(self, record: EventRecord) -> None:
        """Write a record that is still in flight (terminal ones go through the FINISH script)."""
        await self.redis.set(keys.event(record.id), record.stored_json())
