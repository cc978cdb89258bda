"""Plausible experiment statistics: two-proportion z-test and a normal approximation."""

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    """Visitors (Convert) or users (Qonversion) and how many of them converted."""

    total: int
    conversions: int

    @property
    def rate(self) -> float:
        return self.conversions / self.total if self.total else 0.0


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def confidence(baseline: Counts, other: Counts) -> float:
    """Two-sided confidence (1 - p) that the rates differ, 0..1, from a pooled z-test."""
    if baseline.total == 0 or other.total == 0:
        return 0.0
    pooled = (baseline.conversions + other.conversions) / (baseline.total + other.total)
    se = math.sqrt(pooled * (1 - pooled) * (1 / baseline.total + 1 / other.total))
    if se == 0:
        return 0.0
    z = (other.rate - baseline.rate) / se
    return 2 * normal_cdf(abs(z)) - 1


def probability_to_beat(baseline: Counts, other: Counts) -> float | None:
    """P(other's true rate > baseline's), normal approximation with unpooled variances."""
    if baseline.total == 0 or other.total == 0:
        return None
    var = (
        baseline.rate * (1 - baseline.rate) / baseline.total
        + other.rate * (1 - other.rate) / other.total
    )
    diff = other.rate - baseline.rate
    if var == 0:
        return 1.0 if diff > 0 else 0.0 if diff < 0 else 0.5
    return normal_cdf(diff / math.sqrt(var))


def relative_change(baseline: Counts, other: Counts) -> float | None:
    """(other - baseline) / baseline as a fraction; None when the baseline rate is 0."""
    if baseline.rate == 0:
        return None
    return (other.rate - baseline.rate) / baseline.rate


def planned_shares(planned: Sequence[float | None]) -> list[float]:
    """Fractions of the traffic from planned percentages or weights (Convert variation
    `percentage`, Qonversion group `weight`); an equal split when one is missing or all are 0."""
    if not planned:
        return []
    if any(p is None or p < 0 for p in planned) or sum(p or 0 for p in planned) <= 0:
        return [1 / len(planned)] * len(planned)
    total = sum(p or 0 for p in planned)
    return [(p or 0) / total for p in planned]


def _hashed(seed: int, *parts: str) -> bytes:
    return hashlib.sha256(":".join([str(seed), *parts]).encode()).digest()


def default_counts(seed: int, experiment: Sequence[str], variation: str, share: float) -> Counts:
    """Deterministic numbers for a variation nobody has set: the experiment has 1,600-10,000
    visitors, split as planned (`share` of them here), and 4-13 % of them convert."""
    total = 1600 + int.from_bytes(_hashed(seed, *experiment)[:4], "big") % 8401
    digest = _hashed(seed, *experiment, variation)
    rate = 0.04 + (int.from_bytes(digest[4:8], "big") % 901) / 10000
    visitors = round(total * share)
    return Counts(total=visitors, conversions=round(visitors * rate))
