"""Plausible experiment statistics: two-proportion z-test and a normal approximation."""

import hashlib
import math
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


def default_counts(seed: int, *parts: str) -> Counts:
    """Deterministic numbers for a variation nobody has set: 800-5000 users, 4-13 % convert."""
    digest = hashlib.sha256(":".join([str(seed), *parts]).encode()).digest()
    total = 800 + int.from_bytes(digest[:4], "big") % 4201
    rate = 0.04 + (int.from_bytes(digest[4:8], "big") % 901) / 10000
    return Counts(total=total, conversions=round(total * rate))
