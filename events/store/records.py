"""Reading and writing status records in Redis.

Reading never fails on one bad record: a record that cannot be parsed in full (written by an
older version, or damaged) is read back as the part that can, with `last_error` saying so, so
listings, reads and the worker that ends it can still name it.
"""

from __future__ import annotations

import json

import structlog
from pydantic import ValidationError
from redis.asyncio import Redis

from expbridge.events import keys
from expbridge.events.record import ErrorInfo, EventRecord

log = structlog.get_logger("expbridge.store")
# What is kept of a record that cannot be read in full: the fields that name it.
SALVAGED_FIELDS = (
    "id",
    "type",
    "source",
    "target",
    "status",
    "received_at",
    "updated_at",
    "attempts",
    "replays",
    "requeued_at",
    "producer_id",
    "reply_to",
)
UNREADABLE = "unreadable"


def parse_record(raw: bytes | str) -> EventRecord | None:
    """The stored record; its readable part if it cannot be read in full; None if not even
    that (then it names nothing a reader could act on)."""
    try:
        return EventRecord.model_validate_json(raw)
    except ValidationError as error:
        reason = f"{error.error_count()} validation errors"
    try:
        loaded = json.loads(raw)  # no depth limit of pydantic's here (recursion aside)
        fields = {name: loaded[name] for name in SALVAGED_FIELDS if name in loaded}
        record = EventRecord.model_validate(fields)
    except (ValueError, TypeError, RecursionError):
        log.warning("stored record unreadable", reason=reason)
        return None
    record.last_error = ErrorInfo(
        kind=UNREADABLE, message=f"the stored record cannot be read in full ({reason})"
    )
    return record


def is_salvaged(record: EventRecord) -> bool:
    return record.last_error is not None and record.last_error.kind == UNREADABLE


class EventStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def get(self, event_id: str) -> EventRecord | None:
        raw = await self.redis.get(keys.event(event_id))
        return parse_record(raw) if raw is not None else None
