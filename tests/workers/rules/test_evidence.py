"""The engine on raw counts (no I/O): degenerate reports decide nothing and say why, several
variations are corrected for, the rule's planned split overrides the provider's."""

from __future__ import annotations

from typing import Any

import pytest

from expbridge.workers.providers.reports import ReportVariation
from expbridge.workers.rules.engine import evaluate
from expbridge.workers.rules.sequential import mixture_test
from tests.workers.rules.test_engine import facts, rule

BETTER = {"significant": "better"}


def counts(vid: str, visitors: int, conversions: int, baseline: bool = False) -> ReportVariation:
    return ReportVariation(
        id=vid,
        name=vid.upper(),
        is_baseline=baseline,
        visitors=visitors,
        conversions=conversions,
        conversion_rate=None,
        change_vs_baseline=None,
        confidence=None,
        chance_to_win=None,
    )


@pytest.mark.parametrize(
    ("variations", "reason"),
    [
        ([counts("a", 0, 0, True), counts("b", 0, 0)], "the report has no visitors yet"),
        ([counts("a", 5000, 500, True)], "the report has 1 variation(s): nothing to compare"),
        (
            [counts("a", 5000, 500, True), counts("b", 5000, 6000)],
            "B has more conversions (6000) than visitors (5000)",
        ),
        (
            [counts("a", -5, 0, True), counts("b", 5000, 60)],
            "A has negative counts (-5 visitors, 0)",
        ),
        ([counts("a", 5000, 500, True), counts("b", 0, 0)], "B has no visitors yet"),
    ],
)
def test_a_degenerate_report_is_not_met_with_the_reason(
    variations: list[ReportVariation], reason: str
) -> None:
    for when in (BETTER, {"srm": True}, {"confidence_at_least": 0.95}):
        decision = evaluate(rule(when), facts(10, variations))
        assert (decision.fire, decision.statistics) == (False, None)
        assert decision.reasons[-1] == f"{reason}: nothing decided"


def test_bonferroni_over_three_variations_and_the_best_is_named() -> None:
    report = [
        counts("a", 10000, 1000, True),
        counts("b", 10000, 1130),
        counts("c", 10000, 1200),
        counts("d", 10000, 1000),
    ]
    decision = evaluate(rule(BETTER), facts(10, report))
    assert (decision.fire, decision.variation) == (True, "c")
    stats = decision.statistics
    assert stats is not None and stats.comparisons == 3
    single = mixture_test(1000, 10000, 1130, 10000, direction="better")
    assert stats.variations[1].p_value == pytest.approx(min(1.0, 3 * single.p_value))
    assert single.p_value < 0.05 < stats.variations[1].p_value  # B alone would have passed
    assert [v.significant for v in stats.variations] == [None, None, "better", None]


def test_the_rules_planned_split_overrides_the_providers() -> None:
    report = [counts("a", 9000, 900, True), counts("b", 1000, 100)]
    uneven: dict[str, Any] = {**BETTER, "planned_split": {"a": 90, "B": 10}}
    decision = evaluate(rule(uneven), facts(10, report, planned_split={"a": 50, "b": 50}))
    assert decision.statistics is not None and not decision.statistics.srm
    assert decision.statistics.planned_split_source == "rule"
    decision = evaluate(rule(BETTER), facts(10, report, planned_split={"a": 50, "b": 50}))
    assert (decision.fire, decision.condition) == (False, "srm")
    assert (
        decision.statistics is not None and decision.statistics.planned_split_source == "provider"
    )


def test_an_srm_rule_without_a_mismatch_waits() -> None:
    report = [counts("a", 5000, 500, True), counts("b", 5010, 700)]
    decision = evaluate(rule({"srm": True}), facts(10, report))
    assert not decision.fire
    assert decision.reasons[-1].startswith("visitors split as planned (SRM p 0.9")


def test_a_planned_split_that_misses_a_variation_decides_nothing() -> None:
    report = [counts("a", 5000, 500, True), counts("b", 5000, 700)]
    when: dict[str, Any] = {**BETTER, "planned_split": {"a": 50, "z": 50}}
    decision = evaluate(rule(when), facts(10, report))
    assert (decision.fire, decision.statistics) == (False, None)
    assert decision.reasons[-1] == (
        "planned_split names no share for B (give ids or names): nothing decided"
    )
