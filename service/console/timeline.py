"""One event's story, in order: received, replays, each step, retries, the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from expbridge.events.record import AttemptRecord, EventRecord, StepRecord
from expbridge.service.console.rendering import moment

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
        "failed_attempts",
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


ATTEMPT_TONES = {"retrying": "wait", "waiting": "wait", "dead": "bad"}
ATTEMPT_WORDS = {
    "retrying": "failed, retried",
    "waiting": "waited for its provider",
    "dead": "failed for good",
}


def _attempt(attempt: AttemptRecord) -> Entry:
    detail: dict[str, Any] = {
        "step": attempt.step,
        "started": moment(attempt.started_at),
        "duration": _seconds(attempt.started_at, attempt.ended_at),
        "upstream status": attempt.upstream_status,
        "error": attempt.error,
        "next attempt": moment(attempt.next_attempt_at) if attempt.next_attempt_at else None,
    }
    # A wait for the provider is not counted: it came before attempt `attempt + 1`.
    number = attempt.attempt + 1 if attempt.outcome == "waiting" else attempt.attempt
    what = f"attempt {number} {ATTEMPT_WORDS[attempt.outcome]}"
    return Entry(attempt.ended_at, what, detail, ATTEMPT_TONES[attempt.outcome])


def _step(step: StepRecord, previous: datetime) -> Entry:
    tone = {"done": "ok", "failed": "bad"}.get(step.status, "wait")
    if step.started_at is not None:
        duration = _seconds(step.started_at, step.finished_at)
    else:  # a record from before steps kept their start: the time since the previous mark
        duration = _seconds(previous, step.finished_at)
    detail: dict[str, Any] = {
        "status": step.status,
        "upstream status": step.upstream_status,
        "idempotency key": step.idempotency_key,
        "attempts": step.attempts,
        "duration": duration,
    }
    at = step.finished_at or step.started_at
    return Entry(at, f"step {step.name}", detail, tone)


def timeline(record: EventRecord) -> list[Entry]:
    """Received first, the end last, and between them the marks in the order they happened:
    replay, attempts that did not succeed, steps, the next attempt."""
    middle: list[Entry] = []
    if record.requeued_at is not None:
        middle.append(
            Entry(record.requeued_at, "replayed", {"replays": record.replays}, tone="wait")
        )
    if record.not_before is not None:
        middle.append(Entry(record.not_before, "takes effect (scheduled)", tone="wait"))
    middle += [_attempt(attempt) for attempt in record.failed_attempts]
    previous = record.started_at
    for step in record.steps:
        middle.append(_step(step, previous))
        previous = step.finished_at or previous
    if record.status == "retrying":
        middle.append(
            Entry(
                record.next_attempt_at,
                "next attempt",
                {"attempts so far": record.attempts},
                tone="wait",
            )
        )
    # Marks without a time (a step not started yet) keep their place after the timed ones.
    middle.sort(key=lambda entry: (entry.at is None, entry.at or record.received_at))
    entries = [Entry(record.received_at, "received", {"source": record.source}), *middle]
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
