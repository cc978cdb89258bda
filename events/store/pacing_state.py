"""What the pacing and circuit-breaker keys say right now, for people (the operator console).

The workers write these keys (workers/pacing.py); this module only reads them, on Redis's
clock like the scripts, so the ingress can show them without importing the workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis

from expbridge.events import keys

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class ProviderState:
    provider: str
    in_flight: int
    breaker: BreakerState
    # Transient failures in the current run (the breaker opens at breaker_failures).
    failures: int
    # Seconds until the breaker lets a probe through (open), or a 429 slow-down ends.
    open_for_s: float
    slowed_for_s: float


def _int(raw: bytes | None) -> int:
    return int(float(raw)) if raw else 0


async def provider_state(redis: Redis, provider: str) -> ProviderState:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.time()
        pipe.zrange(keys.pace(provider, "slots"), 0, -1, withscores=True)
        pipe.hgetall(keys.pace(provider, "breaker"))
        pipe.get(keys.pace(provider, "penalty"))
        (seconds, micros), leases, breaker, penalty = await pipe.execute()
    now_ms = seconds * 1000 + micros // 1000
    # A lease whose expiry has passed belongs to a worker that died mid-request: not in flight.
    in_flight = sum(1 for _, expires in leases if expires > now_ms)
    open_until = _int(breaker.get(b"open_until"))
    state: BreakerState = "closed"
    if open_until > now_ms:
        state = "open"
    elif open_until > 0:
        state = "half_open"  # the cool-down is over; the next request is the probe
    return ProviderState(
        provider=provider,
        in_flight=in_flight,
        breaker=state,
        failures=_int(breaker.get(b"failures")),
        open_for_s=max(0, open_until - now_ms) / 1000,
        slowed_for_s=max(0, _int(penalty) - now_ms) / 1000,
    )


async def queue_depths(redis: Redis, queue_name: str) -> tuple[int, int]:
    """Jobs waiting in the arq queue (one per line's head event), and dead letters."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zcard(queue_name)
        pipe.zcard(keys.DEAD_INDEX)
        jobs, dead = await pipe.execute()
    return int(jobs), int(dead)
