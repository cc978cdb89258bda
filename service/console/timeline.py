"""One event's story, in order: received, replays, each step, retries, the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from expbridge.events.record import EventRecord

# Status-record fields the event page shows in their own places; any other field (trace_id,
# not_before, ...) is listed as it is.
SHOWN_FIELDS = frozenset(
    {
        "id",
        "type",
        "source",
        "target",
        "status",
        "received_at",
        "updated_at",
        "attempts",
        "next_attempt_at",
        "steps",
        "last_error",
        "result",
        "replays",
        "requeued_at",
        "cause",
        "producer_id",
        "time",
    }
)


@dataclass
class Entry:
    at: datetime | None
    what: str
    detail: dict[str, Any] = field(default_factory=dict)
    tone: str = ""  # ok, bad, wait: how the page colours it


def _seconds(start: datetime | None, end: datetime | None) -> str | None:
    if start is None or end is None:
        return None
    return f"{(end - start).total_seconds():.3f} s"


def timeline(record: EventRecord) -> list[Entry]:
    entries = [Entry(record.received_at, "received", {"source": record.source})]
    if record.requeued_at is not None:
        entries.append(
            Entry(record.requeued_at, "replayed", {"replays": record.replays}, tone="wait")
        )
    if record.not_before is not None:
        entries.append(Entry(record.not_before, "takes effect (scheduled)", tone="wait"))
    previous = record.started_at
    for step in record.steps:
        tone = {"done": "ok", "failed": "bad"}.get(step.status, "wait")
        detail: dict[str, Any] = {
            "status": step.status,
            "upstream status": step.upstream_status,
            "idempotency key": step.idempotency_key,
            "attempts": step.attempts,
            # Steps record when they finished, not when they started: the time since the
            # previous mark (acceptance, replay or the step before) includes any wait in line.
            "duration": _seconds(previous, step.finished_at),
        }
        entries.append(Entry(step.finished_at, f"step {step.name}", detail, tone))
        previous = step.finished_at or previous
    if record.status == "retrying":
        entries.append(
            Entry(
                record.next_attempt_at,
                "next attempt",
                {"attempts so far": record.attempts},
                tone="wait",
            )
        )
    if record.is_terminal:
        detail = {
            "attempts": record.attempts,
            "total": _seconds(record.received_at, record.updated_at),
        }
        if record.last_error is not None:
            detail["last error"] = record.last_error.message
        if record.cancelled_by is not None:
            detail["by"] = record.cancelled_by
        tone = {"succeeded": "ok", "dead": "bad"}.get(record.status, "wait")
        entries.append(Entry(record.updated_at, record.status, detail, tone))
    return entries


def other_fields(public: dict[str, Any]) -> dict[str, Any]:
    """Fields of the status record this page has no special place for (shown as they are)."""
    return {k: v for k, v in public.items() if k not in SHOWN_FIELDS and v is not None}
