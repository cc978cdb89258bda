"""Durable accept with group commit, shared by the ingress and the workers' rule actions.

Each accepted event is one run of the ACCEPT script's body (idempotency entry, record and place
in line, atomically). Requests that arrive while a flush is under way wait for the next flush,
which accepts all of them in one run of ACCEPT_MANY: one Redis round trip, one command and one
reply shared by concurrent requests (a pipeline of one EVALSHA each cost the ingress a seventh
of its time parsing their replies), and no added latency when the ingress is idle.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass, field

import orjson
from redis.asyncio import Redis

from expbridge.config.settings import Settings
from expbridge.events import keys as redis_keys
from expbridge.events.record import EventRecord
from expbridge.events.store.queue import QueueScripts


def _due_ms(record: EventRecord) -> str:
    """When a scheduled event is due, for the ACCEPT script; '' for one that joins its line."""
    if record.status != "scheduled" or record.not_before is None:
        return ""
    return str(int(record.not_before.timestamp() * 1000))


class _RandomDigits:
    """Hex digits from os.urandom, read 4 KiB at a time: one system call (dear on a virtual
    machine) per ~430 event ids instead of one per id. A forked child forgets what its parent
    read, so the two never hand out the same digits."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._digits = ""
        self._at = 0
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forget)

    def take(self, count: int) -> str:
        with self._lock:  # two threads must never be given the same digits
            at = self._at
            if at + count > len(self._digits):
                self._digits, at = os.urandom(self._size).hex(), 0
            self._at = at + count
            return self._digits[at : at + count]

    def _forget(self) -> None:
        self._digits, self._at = "", 0


_RANDOM_DIGITS = _RandomDigits()


def new_event_id() -> str:
    """`evt_` and 32 hex digits: the time in microseconds (13) and 76 random bits (19). Events
    accepted in the same millisecond share an index score, and the index breaks ties by id:
    time-ordered ids keep those in order of arrival (and cost a third of uuid4)."""
    return f"evt_{time.time_ns() // 1000:013x}{_RANDOM_DIGITS.take(19)}"


@dataclass
class Accepted:
    event_id: str
    replayed: bool


class SubmitError(Exception):
    """The event was not accepted. Each edge (HTTP, Slack, rules) answers in its own way."""


class IdempotencyConflict(SubmitError):
    """The key was used before with another body."""


class IdempotencyInFlight(SubmitError):
    """The key is being accepted right now by another request."""


class QueueUnavailable(SubmitError):
    """Redis did not take the event (unreachable, or failed the script)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(str(cause))
        self.cause = cause


# Events per ACCEPT_MANY run at most (the rest go in the next): a bound on how long one run
# holds Redis (about 20 us per event).
MAX_BATCH = 256


@dataclass(slots=True)
class _Pending:
    """One event waiting for the next group commit: its own KEYS and ARGV of ACCEPT_MANY."""

    keys: list[str]
    args: list[str | bytes]
    idempotency_key: str | None
    fingerprint: str
    done: asyncio.Future[Accepted] = field(repr=False)


class Acceptor:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.scripts = QueueScripts(redis, settings.queue_name)
        self.idempotency_ttl_ms = settings.idempotency_ttl_s * 1000
        self.job_expiry_ms = settings.job_expiry_ms
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._in_flight: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def accept(
        self, record: EventRecord, idempotency_key: str | None, fingerprint: str
    ) -> asyncio.Future[Accepted]:
        """Accept `record` in the next group commit: a future its run resolves, not a
        coroutine (one frame less to suspend and resume on the accept path). Raises
        IdempotencyInFlight at once; the future, QueueUnavailable's cause or
        IdempotencyConflict."""
        if idempotency_key is not None and idempotency_key in self._in_flight:
            raise IdempotencyInFlight
        pending = _Pending(
            self.scripts.event_keys(
                idempotency_key or redis_keys.NO_IDEMPOTENCY, record.id, record.target
            ),
            self._event_args(record, idempotency_key, fingerprint),
            idempotency_key,
            fingerprint,
            self._running_loop().create_future(),
        )
        if idempotency_key is not None:
            self._in_flight.add(idempotency_key)  # until its run settles it (_settle)
        self._pending.append(pending)
        if self._flusher is None or self._flusher.done():
            self._flusher = self._running_loop().create_task(self._flush())
        # No shield needed: aiohttp does not cancel handlers, and _settle skips done futures.
        return pending.done

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """The loop this acceptor runs in: asyncio.get_running_loop() makes a getpid system
        call each time on Python 3.11, so it is asked again only once that loop has ended."""
        loop = self._loop
        if loop is None or not loop.is_running():
            loop = self._loop = asyncio.get_running_loop()
        return loop

    def accept_args(
        self, record: EventRecord, idempotency_key: str | None, fingerprint: str, now_ms: int
    ) -> list[str | bytes]:
        """ACCEPT's ARGV before the key layout (an approval's DECIDE runs on into ACCEPT)."""
        event = self._event_args(record, idempotency_key, fingerprint)
        return [*event[:3], *self._run_args(now_ms), *event[3:]]

    @staticmethod
    def _event_args(
        record: EventRecord, idempotency_key: str | None, fingerprint: str
    ) -> list[str | bytes]:
        """An event's own ARGV of ACCEPT: id, record JSON, fingerprint, has key, due ms."""
        return [
            record.id,
            record.stored_json(),
            fingerprint,
            "1" if idempotency_key else "0",
            _due_ms(record),
        ]

    def _run_args(self, now_ms: int) -> list[str | bytes]:
        """ACCEPT's ARGV every event of a run shares: idempotency TTL, now, job expiry (ms)."""
        return [str(self.idempotency_ttl_ms), str(now_ms), str(self.job_expiry_ms)]

    async def _flush(self) -> None:
        script = self.scripts.accept_many
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            keys = self.scripts.run_keys()
            args = self._run_args(int(time.time() * 1000))
            for item in batch:
                keys += item.keys
                args += item.args
            try:  # (redis-py's script call loads the script again if Redis lost it)
                results = await script(keys, args)
            except Exception as error:  # Redis unreachable or refusing: no event gets a 202
                for item in batch:
                    self._settle(item, None, error)
                continue
            for item, result in zip(batch, results, strict=True):
                self._settle(item, result, None)

    def _settle(self, item: _Pending, result: list[object] | None, error: Exception | None) -> None:
        if item.idempotency_key is not None:
            self._in_flight.discard(item.idempotency_key)
        done = item.done
        if done.done():  # its request went away
            return
        if result is None:
            done.set_exception(error or RuntimeError("no answer from ACCEPT_MANY"))
            return
        status, prior = result
        if status == 1:
            done.set_result(Accepted(str(item.args[0]), replayed=False))
            return
        first = orjson.loads(prior)  # type: ignore[arg-type]
        if first["fingerprint"] != item.fingerprint:
            done.set_exception(IdempotencyConflict())
        else:
            done.set_result(Accepted(first["event_id"], replayed=True))

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
