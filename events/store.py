"""Reading and writing status records in Redis."""

from __future__ import annotations

from redis.asyncio import Redis

from events import keys
from events.record import EventRecord


class EventStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def get(self, event_id: str) -> EventRecord | None:
        raw = await self.redis.get(keys.event(event_id))
        return EventRecord.model_validate_json(raw) if raw is not None else None

    async def save(self, record: EventRecord) -> None:
        """Write a record that is still in flight (terminal ones go through the FINISH script)."""
        await self.redis.set(keys.event(record.id), record.model_dump_json())

    async def recent_ids(
        self, limit: int, before_ms: float | None = None
    ) -> list[tuple[str, float]]:
        upper: float | str = f"({before_ms}" if before_ms is not None else "+inf"
        rows = await self.redis.zrevrangebyscore(
            keys.EVENT_INDEX, upper, "-inf", start=0, num=limit, withscores=True
        )
        return [(member.decode(), score) for member, score in rows]
