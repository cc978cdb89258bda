"""Per-provider pacing and circuit breaker, shared by all worker processes through Redis.

Before a step talks to a provider it takes a slot: the circuit must not be open, no 429
slow-down may be in force, fewer than `max_concurrency` requests may be in flight, and the
request rate stays under `requests_per_second` (GCRA). After the step, the outcome feeds the
breaker (a run of transient failures opens it for a cool-down, then one probe decides) and a
429 slows every worker's pace for that provider, not only the event that met it.

One clock for all workers: the scripts read Redis's TIME.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from redis.asyncio import Redis

from expbridge.config.settings import PaceTable
from expbridge.events import keys
from expbridge.workers.providers.errors import TransientUpstreamError


def _lua(name: str) -> str:
    return files("expbridge.workers").joinpath("lua", name).read_text()


# The scripts (KEYS and ARGV are described at their top), read once at import. The slot's
# logic is functions in one file, shared with the job's scripts (workers/job_writes.py).
SLOT_FUNCTIONS = _lua("slot_functions.lua")
ACQUIRE = SLOT_FUNCTIONS + _lua("acquire_slot.lua")
RELEASE = SLOT_FUNCTIONS + _lua("release_slot.lua")
# Takes the keys and arguments of one acquire; answers (wait ms, reason, probe flag).
TakeSlot = Callable[[list[str], list[Any]], Awaitable[Any]]


def _pace_keys(provider: str, *parts: str) -> list[str]:
    return [keys.pace(provider, part) for part in parts]


class ProviderBusy(Exception):
    """The provider cannot take a request now; the event waits without using an attempt."""

    def __init__(self, provider: str, wait_s: float, reason: str) -> None:
        super().__init__(f"{provider}: {reason}, waiting {wait_s:.1f}s")
        self.provider = provider
        self.wait_s = wait_s
        self.reason = reason


@dataclass(frozen=True)
class Ticket:
    lease_id: str
    probe: bool


def slot_outcome(error: BaseException | None) -> tuple[str, float | None]:
    """How a call that ended so (None: it answered) feeds the breaker, and the Retry-After of
    a 429: a transient failure counts against the provider, a permanent answer still shows it
    is up, a cancelled call tells nothing."""
    if error is None:
        return "success", None
    if isinstance(error, TransientUpstreamError):
        return ("rate_limited" if error.rate_limited else "failure"), error.retry_after_s
    return ("success" if isinstance(error, Exception) else "neutral"), None


class ProviderGate:
    def __init__(
        self, redis: Redis, pace: PaceTable, lease_s: float, floor_429_s: float, cap_429_s: float
    ) -> None:
        self.pace = pace
        self.lease_ms = int(lease_s * 1000)
        self.floor_429_ms = int(floor_429_s * 1000)
        self.cap_429_ms = int(cap_429_s * 1000)
        self._acquire = redis.register_script(ACQUIRE)
        self._release = redis.register_script(RELEASE)

    def _acquire_call(self, provider: str, lease_id: str) -> tuple[list[str], list[Any]]:
        limits = self.pace.of(provider)
        interval_ms = 1000.0 / limits.requests_per_second
        burst = max(1.0, limits.requests_per_second)  # up to one second's worth at once
        return (
            _pace_keys(provider, "tat", "penalty", "slots", "breaker"),
            [
                interval_ms,
                interval_ms * (burst - 1),
                limits.max_concurrency,
                self.lease_ms,
                lease_id,
                self.lease_ms,
            ],
        )

    async def _take_alone(self, slot_keys: list[str], slot_args: list[Any]) -> Any:
        return await self._acquire(keys=slot_keys, args=slot_args)

    async def acquire(self, provider: str, take: TakeSlot | None = None) -> Ticket:
        """A slot, waiting in place for the pace up to the provider's budget; `take` runs the
        acquire (default: the acquire script alone; the job's BEGIN saves the record with it)."""
        lease_id = os.urandom(16).hex()
        waited = 0.0
        budget = self.pace.of(provider).max_wait_in_place_s
        while True:
            wait_ms, reason, probe = await (take or self._take_alone)(
                *self._acquire_call(provider, lease_id)
            )
            reason = reason.decode() if isinstance(reason, bytes) else reason
            if reason == "ok":
                return Ticket(lease_id, probe == 1)
            wait_s = int(wait_ms) / 1000
            if reason.startswith("circuit") or waited + wait_s > budget:
                raise ProviderBusy(provider, max(wait_s, 0.05), reason)
            await asyncio.sleep(wait_s)
            waited += wait_s

    def release_call(
        self, provider: str, ticket: Ticket, outcome: str, retry_after_s: float | None = None
    ) -> tuple[list[str], list[Any]]:
        """The keys and arguments that give a slot back (alone, or inside another script)."""
        limits = self.pace.of(provider)
        asked_ms = min(int((retry_after_s or 0) * 1000), self.cap_429_ms)
        penalty_ms = max(self.floor_429_ms, asked_ms)
        return (
            _pace_keys(provider, "slots", "breaker", "penalty"),
            [
                ticket.lease_id,
                outcome,
                "1" if ticket.probe else "0",
                limits.breaker_failures,
                int(limits.breaker_cooldown_s * 1000),
                penalty_ms,
            ],
        )

    async def release_with(self, slot_keys: list[str], slot_args: list[Any]) -> None:
        await self._release(keys=slot_keys, args=slot_args)

    async def release(
        self, provider: str, ticket: Ticket, outcome: str, retry_after_s: float | None = None
    ) -> None:
        await self.release_with(*self.release_call(provider, ticket, outcome, retry_after_s))

    @contextlib.asynccontextmanager
    async def slot(self, provider: str) -> AsyncIterator[None]:
        ticket = await self.acquire(provider)
        ended: BaseException | None = None
        try:
            yield
        except BaseException as error:
            ended = error
            raise
        finally:
            outcome, retry_after = slot_outcome(ended)
            await asyncio.shield(self.release(provider, ticket, outcome, retry_after))
