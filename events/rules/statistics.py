"""The statistics a lifecycle rule decided on, recorded with its evaluation (GET
/v1/rules/evaluations, the console, the log line) and in the `cause` of the events it queued.

Units: rates and differences are fractions (0.012 = 1.2 percentage points); planned shares are
percent. The test is the bridge's own always-valid mixture SPRT on the report's raw counts
(workers/rules/sequential.py), after the sample-ratio-mismatch check (workers/rules/srm.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from expbridge.config.conditions import Direction


class VariationStatistics(BaseModel):
    """One variation, with its comparison to the baseline (the comparison fields are null for
    the baseline itself)."""

    id: str
    name: str | None = None
    is_baseline: bool = False
    visitors: int
    conversions: int
    conversion_rate: float | None = None
    # The planned share of visitors (percent) the SRM check compared against.
    planned_percent: float | None = None
    # rate - baseline rate, and that relative to the baseline rate (0.1 = 10 % lift).
    difference: float | None = None
    relative_lift: float | None = None
    # The always-valid interval of `difference` at alpha / comparisons; one-sided for a
    # direction (better: no upper end, null; worse: no lower end, null).
    interval_low: float | None = None
    interval_high: float | None = None
    # The always-valid p-value of the rule's direction, Bonferroni-adjusted.
    p_value: float | None = None
    # Significantly better or worse than the baseline, in the rule's direction.
    significant: Literal["better", "worse"] | None = None


class EvaluationStatistics(BaseModel):
    method: Literal["msprt"] = "msprt"
    direction: Direction
    alpha: float
    # The mixing distribution's standard deviation, relative to the pooled conversion rate.
    mixing_sd: float
    # Variations compared with the baseline: the Bonferroni divisor.
    comparisons: int
    # The chi-square test of the visitors against the planned split.
    srm_p_value: float
    srm_p_below: float
    srm: bool
    # Where the planned split came from: the rule's planned_split, the provider's
    # (Convert variation percentage, Qonversion group weight), or equal shares.
    planned_split_source: Literal["rule", "provider", "equal"]
    variations: list[VariationStatistics]

    def summary(self) -> str:
        """One line for people: each variation's lift, interval and p-value, and the SRM p."""
        parts = []
        for v in self.variations:
            if v.is_baseline or v.difference is None:
                continue
            low = "-inf" if v.interval_low is None else f"{v.interval_low * 100:+.2f}"
            high = "+inf" if v.interval_high is None else f"{v.interval_high * 100:+.2f}"
            lift = "" if v.relative_lift is None else f" ({v.relative_lift:+.1%})"
            parts.append(
                f"{v.name or v.id} {v.difference * 100:+.2f} pp{lift}, always-valid interval "
                f"[{low}, {high}] pp, p {v.p_value:.3g}"
            )
        return "; ".join([*parts, f"SRM p {self.srm_p_value:.3g}"])
