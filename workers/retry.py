"""When to try an event again: exponential backoff with equal jitter, Retry-After honoured."""

from __future__ import annotations

import random
from dataclasses import dataclass

from expbridge.config.settings import RetrySettings


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    delay_s: float
    reason: str = ""


class RetryPolicy:
    def __init__(self, settings: RetrySettings, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.rng = rng or random.Random()

    def backoff(self, attempt: int) -> float:
        """Equal jitter: uniform between half of base * 2^(attempt-1) (capped) and all of it.
        Half of the wait is kept, so retries never bunch up near zero, and the random half
        still spreads out the workers that failed together."""
        ceiling = min(self.settings.max_delay_s, self.settings.base_delay_s * 2 ** (attempt - 1))
        return self.rng.uniform(ceiling / 2, ceiling)

    def decide(
        self,
        attempt: int,
        age_s: float,
        retry_after_s: float | None = None,
        rate_limited: bool = False,
    ) -> RetryDecision:
        s = self.settings
        if attempt >= s.max_attempts:
            return RetryDecision(False, 0.0, f"gave up after {attempt} attempts")
        delay = self.backoff(attempt)
        if retry_after_s is not None:
            # The upstream's word wins over our guess, but within our cap.
            delay = min(max(retry_after_s, 0.0), s.max_delay_s)
        if rate_limited:
            delay = max(delay, s.rate_limited_floor_s)
        if age_s + delay > s.max_age_s:
            return RetryDecision(
                False, 0.0, f"gave up: the event would be older than {s.max_age_s:g}s"
            )
        return RetryDecision(True, delay)
