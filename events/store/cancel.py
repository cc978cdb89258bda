"""Cancel an event that is not upstream yet: scheduled, queued or retrying.

One CANCEL script run takes it out of the schedule or its line (the next event in the line
proceeds) and removes its arq job, atomically, and only if the record is still the one read
here and no worker holds its job: a worker sets arq's in-progress key before it reads the
record, so a cancel never races a worker that is about to send the event upstream.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.callbacks import Callbacks
from expbridge.events.record import CANCELLABLE, EventRecord, utcnow
from expbridge.events.store.queue import QueueScripts
from expbridge.events.store.records import parse_record

CancelOutcome = Literal["cancelled", "running", "finished", "missing"]
# A record that changes under a cancel is read again; an event moves on only a few times.
ATTEMPTS = 8


@dataclass(frozen=True)
class Cancellation:
    outcome: CancelOutcome
    record: EventRecord | None


def cancelled(record: EventRecord, by: str) -> EventRecord:
    now = utcnow()
    return record.model_copy(
        update={
            "status": "cancelled",
            "updated_at": now,
            "next_attempt_at": None,
            "cancelled_by": by,
        }
    )


class Canceller:
    def __init__(
        self, redis: Redis, settings: Settings, callbacks: Callbacks | None = None
    ) -> None:
        self.redis = redis
        # The source's `cancelled` callbacks, queued once the cancel is done (after the script:
        # a process that dies in between has cancelled the event without calling back).
        self.callbacks = callbacks
        self.scripts = QueueScripts(redis, settings.queue_name)
        self.job_expiry_ms = settings.job_expiry_ms
        # Kept like dead ones: as long as finished records.
        self.retention_ms = settings.event_retention_s * 1000

    async def cancel(self, event_id: str, by: str, owner: str | None = None) -> Cancellation:
        """`owner`: only an event of this source (None: any, for the admin); another source's
        event is `missing`, so ids cannot be probed. Cancelling a cancelled event answers the
        same record again."""
        for _ in range(ATTEMPTS):
            raw, dispatch = await self.redis.mget(
                keys.event(event_id), keys.dispatch_counter(event_id)
            )
            if raw is None:
                return Cancellation("missing", None)
            record = parse_record(raw)  # an unreadable one can be cancelled too: its line moves
            if record is None or (owner is not None and record.source != owner):
                return Cancellation("missing", None)
            if record.status == "cancelled":
                return Cancellation("cancelled", record)
            if record.status not in CANCELLABLE:
                outcome: CancelOutcome = "running" if record.status == "running" else "finished"
                return Cancellation(outcome, record)
            done = cancelled(record, by)
            answer = await self._run(record, raw, dispatch, done)
            if answer == "cancelled":
                if self.callbacks is not None:
                    await self.callbacks.event_outcome(done, "cancelled")
                return Cancellation("cancelled", done)
            if answer == "running":
                return Cancellation("running", record)
        return Cancellation("running", record)

    async def _run(
        self, record: EventRecord, raw: bytes, dispatch: bytes | None, done: EventRecord
    ) -> str:
        number = dispatch.decode() if dispatch is not None else ""
        job_id = keys.job_id(record.id, int(number or 0))
        answer = await self.scripts.cancel(
            keys=[
                keys.event(record.id),
                keys.dispatch_counter(record.id),
                keys.order(record.target),
                self.scripts.queue_name,
                keys.SCHEDULED,
                keys.COUNTS,
                keys.arq_job(job_id),
                keys.arq_in_progress(job_id),
                keys.arq_retry(job_id),
            ],
            args=[
                record.id,
                raw,
                number,
                done.stored_json(),
                job_id,
                int(time.time() * 1000),
                self.job_expiry_ms,
                self.retention_ms,
                f"cancelled:{record.status}",
            ],
        )
        return answer.decode() if isinstance(answer, bytes) else str(answer)
