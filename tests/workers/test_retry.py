from __future__ import annotations

import random

from expbridge.config.settings import RetrySettings
from expbridge.workers.retry import RetryPolicy


def policy(**overrides: float) -> RetryPolicy:
    return RetryPolicy(RetrySettings(**overrides), random.Random(7))  # type: ignore[arg-type]


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    p = policy(base_delay_s=1, max_delay_s=30)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (5, 16), (9, 30)]:
        delays = {p.backoff(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered, not a fixed schedule


def test_retry_after_wins_but_is_clamped() -> None:
    p = policy(base_delay_s=1, max_delay_s=60)
    assert p.decide(1, 0, retry_after_s=17).delay_s == 17
    assert p.decide(1, 0, retry_after_s=3600).delay_s == 60


def test_rate_limited_has_a_floor() -> None:
    p = policy(base_delay_s=0.1, rate_limited_floor_s=5)
    assert p.decide(1, 0, rate_limited=True).delay_s == 5
    assert p.decide(1, 0, retry_after_s=1, rate_limited=True).delay_s == 5


def test_attempt_and_age_limits_end_the_schedule() -> None:
    p = policy(max_attempts=3, max_age_s=100, base_delay_s=1)
    assert p.decide(2, 0).retry
    assert not p.decide(3, 0).retry
    decision = p.decide(1, 99.5)
    assert not decision.retry and "older" in decision.reason
