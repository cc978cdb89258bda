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

from redis.asyncio import Redis

from expbridge.config.settings import PaceTable
from expbridge.workers.providers.errors import TransientUpstreamError

_NOW = "local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

# KEYS: tat, penalty, slots, breaker. ARGV: interval ms, tolerance ms, max concurrency,
# lease ms, lease id, probe lease ms. Returns {wait ms, reason, probe flag}.
ACQUIRE = (
    _NOW
    + """
local open_until = tonumber(redis.call('HGET', KEYS[4], 'open_until') or '0')
if open_until > now then return {open_until - now, 'circuit_open', 0} end
local penalty = tonumber(redis.call('GET', KEYS[2]) or '0')
if penalty > now then return {penalty - now, 'rate_limited', 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then return {25, 'concurrency', 0} end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now - tonumber(ARGV[2])
if wait > 0 then return {wait, 'rate', 0} end
local probe = 0
if open_until > 0 then
  local probe_until = tonumber(redis.call('HGET', KEYS[4], 'probe_until') or '0')
  if probe_until > now then return {math.min(probe_until - now, 500), 'circuit_half_open', 0} end
  redis.call('HSET', KEYS[4], 'probe_until', now + tonumber(ARGV[6]))
  probe = 1
end
redis.call('SET', KEYS[1], tat + tonumber(ARGV[1]), 'PX', 60000)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ARGV[5])
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[4]) * 2)
return {0, 'ok', probe}
"""
)

# KEYS: slots, breaker, penalty. ARGV: lease id, outcome, probe flag, failure threshold,
# cool-down ms, penalty ms.
RELEASE = (
    _NOW
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
local outcome = ARGV[2]
if outcome == 'success' then
  redis.call('DEL', KEYS[2])
elseif outcome == 'failure' then
  local failures = redis.call('HINCRBY', KEYS[2], 'failures', 1)
  if ARGV[3] == '1' or failures >= tonumber(ARGV[4]) then
    redis.call('HSET', KEYS[2], 'open_until', now + tonumber(ARGV[5]), 'failures', 0,
               'probe_until', 0)
  end
elseif outcome == 'rate_limited' then
  local until_ms = now + tonumber(ARGV[6])
  if tonumber(redis.call('GET', KEYS[3]) or '0') < until_ms then
    redis.call('SET', KEYS[3], until_ms, 'PX', tonumber(ARGV[6]))
  end
end
return 1
"""
)


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


def _key(provider: str, part: str) -> str:
    return f"expbridge:pace:{provider}:{part}"


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
            keys=[_key(provider, "tat"), _key(provider, "penalty"), _key(provider, "slots"),
                  _key(provider, "breaker")],
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
            keys=[_key(provider, "slots"), _key(provider, "breaker"), _key(provider, "penalty")],
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
