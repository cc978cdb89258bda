"""Paging through a time index of events (all events, or dead letters), newest first.

Indexes are sorted sets scored by milliseconds; many events share a score under group
commit, so the cursor is (score, id) and ties are broken by id as Redis orders them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis

from expbridge.events import keys
from expbridge.events.record import EventRecord, EventStatus
from expbridge.events.store.records import parse_record

BATCH = 200
MAX_SCANNED = 10_000


@dataclass(frozen=True)
class Page:
    records: list[EventRecord]
    next_cursor: str | None


def encode_cursor(score: float, event_id: str) -> str:
    return f"{int(score)}:{event_id}"


class BadCursor(ValueError):
    """A cursor this API did not hand out."""


def decode_cursor(cursor: str) -> tuple[int, str]:
    score, sep, event_id = cursor.partition(":")
    if not sep or not (score.isascii() and score.isdigit()) or not event_id:
        raise BadCursor("cursor is not one this API returned")
    return int(score), event_id


def _after_cursor(score: float, event_id: str, cursor: tuple[int, str] | None) -> bool:
    if cursor is None:
        return True
    return score < cursor[0] or (score == cursor[0] and event_id < cursor[1])


async def scan_index(
    redis: Redis,
    index: str,
    *,
    limit: int,
    cursor: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    keep: Callable[[EventRecord], bool] = lambda _: True,
    max_scanned: int = MAX_SCANNED,
    status: str | None = None,
) -> Page:
    """Records of the index, newest first, that `keep` keeps; with `status`, a record whose
    stored status is another is passed over without being parsed."""
    position = decode_cursor(cursor) if cursor else None
    upper: int | str = until_ms if until_ms is not None else "+inf"
    if position is not None:
        upper = position[0] if upper == "+inf" else min(int(upper), position[0])
    lower: int | str = since_ms if since_ms is not None else "-inf"
    found: list[EventRecord] = []
    expired: list[str] = []
    last: tuple[float, str] | None = None
    offset = scanned = 0
    try:
        while len(found) < limit and scanned < max_scanned:
            rows = await redis.zrevrangebyscore(
                index, upper, lower, start=offset, num=BATCH, withscores=True
            )
            if not rows:
                last = None
                break
            offset += len(rows)
            candidates = [(m.decode(), s) for m, s in rows]
            candidates = [(i, s) for i, s in candidates if _after_cursor(s, i, position)]
            scanned += len(rows)
            raws = await redis.mget([keys.event(i) for i, _ in candidates]) if candidates else []
            for (event_id, score), raw in zip(candidates, raws, strict=True):
                last = (score, event_id)
                if raw is None:  # expired record: drop it from the index after the scan
                    expired.append(event_id)
                    continue
                if status is not None and stored_status(raw) not in (None, status):
                    continue
                record = parse_record(raw)
                if record is not None and keep(record):
                    found.append(record)
                    if len(found) == limit:
                        break
    finally:
        # Not while paging by offset: removing entries under the offset would skip others.
        if expired:
            await redis.zrem(index, *expired)
    return Page(found, encode_cursor(*last) if last is not None else None)


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


@dataclass(frozen=True)
class EventFilter:
    """Which events a listing keeps; None matches anything. `target` matches the ordering key
    or its start (`qonversion:` for one provider), `since`/`until` the time of acceptance."""

    status: str | None = None
    type: str | None = None
    source: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def keeps(self, record: EventRecord) -> bool:
        return (
            self.status in (None, record.status)
            and self.type in (None, record.type)
            and self.source in (None, record.source)
            and (self.target is None or record.target.startswith(self.target))
        )


async def event_page(
    redis: Redis,
    wanted: EventFilter,
    *,
    limit: int,
    cursor: str | None = None,
    max_scanned: int = MAX_SCANNED,
) -> Page:
    """Events, newest accepted first (GET /v1/events and the console's events page)."""
    return await scan_index(
        redis,
        keys.EVENT_INDEX,
        limit=limit,
        cursor=cursor,
        since_ms=_ms(wanted.since),
        until_ms=_ms(wanted.until),
        keep=wanted.keeps,
        max_scanned=max_scanned,
        status=wanted.status,
    )


# A stored record is written by EventRecord.stored_json, its fields in the model's order:
# the event's own `status` comes before any nested one (steps, result), and a string value
# cannot hold this byte sequence (its quotes are escaped). Finding it is about ten times
# faster than parsing the record; anything else found is read the long way.
STATUS_MARK = b'"status":"'
STATUSES = frozenset(EventStatus.__args__)  # type: ignore[attr-defined]


def stored_status(raw: bytes) -> str | None:
    """The record's status found without parsing it; None when it is not found that way."""
    start = raw.find(STATUS_MARK) + len(STATUS_MARK)
    if start >= len(STATUS_MARK):
        status = raw[start : raw.find(b'"', start)].decode("ascii", "replace")
        if status in STATUSES:
            return status
    return None


def _status_of(raw: bytes) -> str | None:
    if (status := stored_status(raw)) is not None:
        return status
    record = parse_record(raw)  # one bad record never fails the count
    return record.status if record is not None else None


async def status_counts(
    redis: Redis, since: datetime | None = None, until: datetime | None = None
) -> Counter[str]:
    """How many stored events are in each status (accepted within the time range)."""
    lower = _ms(since)
    upper = _ms(until)
    ids = await redis.zrangebyscore(
        keys.EVENT_INDEX, "-inf" if lower is None else lower, "+inf" if upper is None else upper
    )
    counts: Counter[str] = Counter()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for raw in await redis.mget([keys.event(i.decode()) for i in chunk]):
            if raw is not None and (status := _status_of(raw)) is not None:
                counts[status] += 1
    return counts


async def dead_letter_page(
    redis: Redis,
    *,
    limit: int,
    event_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
) -> Page:
    """Dead events, newest death first, optionally of one type and within a time range."""
    return await scan_index(
        redis,
        keys.DEAD_INDEX,
        limit=limit,
        cursor=cursor,
        since_ms=_ms(since),
        until_ms=_ms(until),
        keep=lambda r: r.status == "dead" and event_type in (None, r.type),
        status="dead",
    )
