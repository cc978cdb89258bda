"""What a report's raw counts say, for the rules engine: the SRM guard first, then the bridge's
always-valid test of each variation against the baseline (workers/rules/sequential.py,
srm.py). Pure: variations and the rule's conditions in, statistics and a verdict out."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from expbridge.config.conditions import Conditions
from expbridge.events.rules.statistics import EvaluationStatistics, VariationStatistics
from expbridge.workers.providers.reports import ReportVariation
from expbridge.workers.rules.sequential import mixture_test
from expbridge.workers.rules.srm import planned_shares, srm_p_values


def label(variation: ReportVariation) -> str:
    return variation.name or variation.id


def report_problem(variations: Sequence[ReportVariation]) -> str | None:
    """Why these counts cannot be compared (a degenerate report), or None."""
    if len(variations) < 2:
        return f"the report has {len(variations)} variation(s): nothing to compare"
    for v in variations:
        if v.visitors < 0 or v.conversions < 0:
            return f"{label(v)} has negative counts ({v.visitors} visitors, {v.conversions})"
        if v.conversions > v.visitors:
            return f"{label(v)} has more conversions ({v.conversions}) than visitors ({v.visitors})"
    if sum(v.visitors for v in variations) == 0:
        return "the report has no visitors yet"
    empty = next((v for v in variations if v.visitors == 0), None)
    if empty is not None:
        return f"{label(empty)} has no visitors yet"
    return None


def split_problem(variations: Sequence[ReportVariation], when: Conditions) -> str | None:
    """The rule's planned_split must name every variation of the report (by id or name)."""
    split = when.planned_split
    if split is None:
        return None
    missing = [label(v) for v in variations if v.id not in split and (v.name or "") not in split]
    if missing:
        return f"planned_split names no share for {', '.join(missing)} (give ids or names)"
    return None


def baseline_index(variations: Sequence[ReportVariation]) -> int:
    return next((i for i, v in enumerate(variations) if v.is_baseline), 0)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def weigh(
    variations: Sequence[ReportVariation],
    when: Conditions,
    provider_split: Mapping[str, float | None] | None,
) -> EvaluationStatistics:
    """The statistics of a valid report (see `report_problem`)."""
    shares, source = planned_shares(
        [v.id for v in variations],
        [v.name for v in variations],
        when.planned_split,
        provider_split,
    )
    srm_p = float(srm_p_values([v.visitors for v in variations], shares))
    srm = srm_p < when.test_srm_p_below
    b = baseline_index(variations)
    base = variations[b]
    direction = when.significant or "either"
    comparisons = len(variations) - 1
    total_share = sum(shares)
    rows = []
    for i, v in enumerate(variations):
        row = VariationStatistics(
            id=v.id,
            name=v.name,
            is_baseline=i == b,
            visitors=v.visitors,
            conversions=v.conversions,
            conversion_rate=v.conversions / v.visitors,
            planned_percent=round(100 * shares[i] / total_share, 4),
        )
        if i != b:
            test = mixture_test(
                base.conversions,
                base.visitors,
                v.conversions,
                v.visitors,
                direction=direction,
                alpha=when.test_alpha,
                mixing_sd=when.test_mixing_sd,
                comparisons=comparisons,
            )
            base_rate = base.conversions / base.visitors
            row.difference = test.difference
            row.relative_lift = test.difference / base_rate if base_rate > 0 else None
            row.interval_low, row.interval_high = _finite(test.low), _finite(test.high)
            row.p_value = test.p_value
            if test.p_value < when.test_alpha and not srm:
                row.significant = "better" if test.difference > 0 else "worse"
        rows.append(row)
    return EvaluationStatistics(
        direction=direction,
        alpha=when.test_alpha,
        mixing_sd=when.test_mixing_sd,
        comparisons=comparisons,
        srm_p_value=srm_p,
        srm_p_below=when.test_srm_p_below,
        srm=srm,
        planned_split_source=source,
        variations=rows,
    )


@dataclass(frozen=True)
class Verdict:
    """What the counts decide: fire (with the condition) or not, and why."""

    fire: bool
    condition: str | None
    reason: str
    variation: str | None = None


def srm_verdict(stats: EvaluationStatistics, when: Conditions) -> Verdict | None:
    """On a mismatch: fire `srm` if the rule asks for it, else refuse to decide. None: the
    visitors were split as planned."""
    if not stats.srm:
        return None
    seen = "/".join(str(v.visitors) for v in stats.variations)
    planned = "/".join(f"{v.planned_percent:g}" for v in stats.variations)
    reason = (
        f"sample ratio mismatch: visitors {seen} against the planned {planned} % "
        f"({stats.planned_split_source}), chi-square p {stats.srm_p_value:.3g} < "
        f"{stats.srm_p_below:g}"
    )
    if when.srm:
        return Verdict(True, "srm", reason)
    return Verdict(False, "srm", reason + ": no significance decision is taken")


def significance_verdict(stats: EvaluationStatistics, when: Conditions) -> Verdict:
    """`significant`: the variation with the smallest p-value among those significant in the
    rule's direction."""
    found = [v for v in stats.variations if v.significant is not None]
    over = f" over {stats.comparisons} comparisons" if stats.comparisons > 1 else ""
    test = f"always-valid test, {stats.direction}, alpha {stats.alpha:g}{over}"
    if not found:
        return Verdict(False, None, f"not significant yet ({test}): {stats.summary()}")
    best = min(found, key=lambda v: v.p_value if v.p_value is not None else 1.0)
    reason = (
        f"{best.name or best.id} is significantly {best.significant} than the baseline "
        f"({test}): {stats.summary()}"
    )
    return Verdict(True, "significant", reason, best.id)
