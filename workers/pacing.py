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
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib.resources import files

from redis.asyncio import Redis

from expbridge.config.settings import PaceTable
from expbridge.events import keys
from expbridge.workers.providers.errors import TransientUpstreamError

# The scripts (KEYS and ARGV are described at their top), read once at import.
ACQUIRE = files("expbridge.workers").joinpath("lua", "acquire_slot.lua").read_text()
RELEASE = files("expbridge.workers").joinpath("lua", "release_slot.lua").read_text()


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
class _Ticket:
    lease_id: str
    probe: bool


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

    async def _try(self, provider: str, lease_id: str) -> tuple[int, str, bool]:
        limits = self.pace.of(provider)
        interval_ms = 1000.0 / limits.requests_per_second
        burst = max(1.0, limits.requests_per_second)  # up to one second's worth at once
        wait_ms, reason, probe = await self._acquire(
            keys=_pace_keys(provider, "tat", "penalty", "slots", "breaker"),
            args=[interval_ms, interval_ms * (burst - 1), limits.max_concurrency,
                  self.lease_ms, lease_id, self.lease_ms],
        )  # fmt: skip
        return int(wait_ms), reason.decode() if isinstance(reason, bytes) else reason, probe == 1

    async def acquire(self, provider: str) -> _Ticket:
        lease_id = uuid.uuid4().hex
        waited = 0.0
        budget = self.pace.of(provider).max_wait_in_place_s
        while True:
            wait_ms, reason, probe = await self._try(provider, lease_id)
            if reason == "ok":
                return _Ticket(lease_id, probe)
            wait_s = wait_ms / 1000
            if reason.startswith("circuit") or waited + wait_s > budget:
                raise ProviderBusy(provider, max(wait_s, 0.05), reason)
            await asyncio.sleep(wait_s)
            waited += wait_s

    async def release(
        self, provider: str, ticket: _Ticket, outcome: str, retry_after_s: float | None = None
    ) -> None:
        limits = self.pace.of(provider)
        asked_ms = min(int((retry_after_s or 0) * 1000), self.cap_429_ms)
        penalty_ms = max(self.floor_429_ms, asked_ms)
        await self._release(
            keys=_pace_keys(provider, "slots", "breaker", "penalty"),
            args=[ticket.lease_id, outcome, "1" if ticket.probe else "0", limits.breaker_failures,
                  int(limits.breaker_cooldown_s * 1000), penalty_ms],
        )  # fmt: skip

    @contextlib.asynccontextmanager
    async def slot(self, provider: str) -> AsyncIterator[None]:
        ticket = await self.acquire(provider)
        outcome, retry_after = "neutral", None
        try:
            yield
            outcome = "success"
        except TransientUpstreamError as error:
            outcome = "rate_limited" if error.rate_limited else "failure"
            retry_after = error.retry_after_s
            raise
        except Exception:
            outcome = "success"  # a permanent answer still shows the provider is up
            raise
        finally:
            await asyncio.shield(self.release(provider, ticket, outcome, retry_after))
