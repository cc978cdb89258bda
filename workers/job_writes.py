"""What one job attempt writes to Redis, each write also taking or giving back the provider
slot, so that an event costs three round trips beside its upstream call: the read at the start
(one MGET), BEGIN (the step's attempt saved and its slot taken, atomically, before the call)
and FINISH (the final record, the slot given back, the next event of the line dispatched).
An attempt that will be retried saves instead of FINISH, giving the slot back in the same
script.

The guarantees stay those of separate writes: a step's attempt is in Redis before its call
(BEGIN writes nothing unless the slot is taken), and a slot nobody gives back (a killed
worker) expires with its lease.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from redis.asyncio import Redis

from expbridge.events import keys
from expbridge.events.record import EventRecord, utcnow
from expbridge.events.store.queue import QueueScript, QueueScripts, lua
from expbridge.workers.pacing import SLOT_FUNCTIONS, ProviderGate, Ticket, slot_outcome


def _worker_lua(name: str) -> str:
    return files("expbridge.workers").joinpath("lua", name).read_text()


BEGIN_STEP = SLOT_FUNCTIONS + _worker_lua("begin_step.lua")
SAVE_RELEASED = SLOT_FUNCTIONS + _worker_lua("save_released.lua")
# The queue's FINISH, with arq's own finishing of the job and the slot of the event's last
# call given back in the same step.
FINISH_RELEASED = (
    lua("dispatch.lua") + SLOT_FUNCTIONS + _worker_lua("before_finish.lua") + lua("finish.lua")
)


class StaleDispatch(Exception):
    """The event was dispatched again (replayed, cancelled) since this job was queued."""


@dataclass
class _HeldSlot:
    provider: str
    ticket: Ticket
    outcome: str = "neutral"  # until the call ends (a cancelled call stays neutral)
    retry_after_s: float | None = None


class JobScripts:
    """The job's scripts, registered once per worker process."""

    def __init__(self, redis: Redis, queue: QueueScripts, gate: ProviderGate) -> None:
        self.redis = redis
        self.queue = queue
        self.gate = gate
        self.begin_step = redis.register_script(BEGIN_STEP)
        self.save_released = redis.register_script(SAVE_RELEASED)
        self.finish_released = QueueScript(redis, FINISH_RELEASED)


class JobWrites:
    """One attempt's writes; it remembers the slot the current call holds until a write gives
    it back."""

    def __init__(self, scripts: JobScripts, record: EventRecord, dispatch: int) -> None:
        self.scripts = scripts
        self.record = record
        self.dispatch = dispatch
        self.started_at = utcnow()  # the attempt's start, as its failure is noted in the record
        self.held: _HeldSlot | None = None

    async def begin_step(self, provider: str | None) -> None:
        """Save the record (running, the step's attempt counted) as the provider's slot is
        taken; waits in place for the pace like ProviderGate.acquire, raises ProviderBusy like
        it. A step that calls no upstream (provider None) is only saved."""
        record_json = self.record.stored_json()
        record_keys = [keys.event(self.record.id), keys.dispatch_counter(self.record.id)]
        if provider is None:
            taken = await self.scripts.begin_step(
                keys=record_keys, args=[self.dispatch, record_json]
            )
            if taken[1] in (b"stale", "stale"):
                raise StaleDispatch
            return

        async def take(slot_keys: list[str], slot_args: list[Any]) -> Any:
            taken = await self.scripts.begin_step(
                keys=[*record_keys, *slot_keys], args=[self.dispatch, record_json, *slot_args]
            )
            if taken[1] in (b"stale", "stale"):
                raise StaleDispatch
            return taken

        self.held = _HeldSlot(provider, await self.scripts.gate.acquire(provider, take=take))

    @property
    def job_id(self) -> str:
        """This attempt's arq job (the queue scripts name an event's jobs so)."""
        return keys.job_id(self.record.id, self.dispatch)

    def call_ended(self, error: BaseException | None) -> None:
        """The outcome the held slot is given back with (see pacing.slot_outcome)."""
        if self.held is not None:
            self.held.outcome, self.held.retry_after_s = slot_outcome(error)

    def _release(self) -> tuple[list[str], list[Any]]:
        held, self.held = self.held, None
        if held is None:
            return [], []
        return self.scripts.gate.release_call(
            held.provider, held.ticket, held.outcome, held.retry_after_s
        )

    async def save(self) -> None:
        """Save the record in flight (waiting to retry), giving back the slot if one is held."""
        slot_keys, slot_args = self._release()
        record_key, record_json = keys.event(self.record.id), self.record.stored_json()
        if not slot_keys:
            await self.scripts.redis.set(record_key, record_json)
            return
        await self.scripts.save_released(
            keys=[record_key, *slot_keys], args=[record_json, *slot_args]
        )

    async def finish(self, now_ms: int, job_expiry_ms: int, retention_ms: int) -> str | None:
        """FINISH (giving back the slot if one is held, and finishing the arq job as arq's
        finish_job would); the job id of the next event of the line when FINISH dispatched
        one."""
        record = self.record
        slot_keys, slot_args = self._release()
        job_id = self.job_id
        next_job = await self.scripts.finish_released(
            keys=[
                *self.scripts.queue.finish_keys(record.id, record.target),
                keys.arq_in_progress(job_id),
                keys.arq_retry(job_id),
                keys.arq_job(job_id),
                *slot_keys,
            ],
            args=[
                record.id,
                record.stored_json(),
                now_ms,
                job_expiry_ms,
                retention_ms,
                "1" if record.status == "dead" else "0",
                job_id,
                *slot_args,
            ],
        )
        if isinstance(next_job, bytes):
            next_job = next_job.decode()
        return next_job or None

    async def release_if_held(self) -> None:
        """A path that ended without a write still gives its slot back."""
        slot_keys, slot_args = self._release()
        if slot_keys:
            await self.scripts.gate.release_with(slot_keys, slot_args)


Handoff = Callable[[str], None]
