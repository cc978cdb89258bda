"""The rules engine alone: facts in, a decision with its reasons out (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from expbridge.config.rules import Rule
from expbridge.workers.providers.reports import ReportVariation
from expbridge.workers.rules.engine import Facts, ThresholdFact, evaluate

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def rule(when: dict[str, Any], **trigger: Any) -> Rule:
    event_rule = bool(trigger)
    return Rule.model_validate(
        {
            "name": "r",
            "trigger": {"event": "goal.threshold_reached", **trigger}
            if event_rule
            else {"schedule": "1h"},
            "targets": [] if event_rule else ["qonversion:exp_1"],
            "when": when,
            "actions": [{"event": "experiment.stop"}],
        }
    )


def variation(
    vid: str,
    visitors: int,
    confidence: float | None = None,
    chance: float | None = None,
    baseline: bool = False,
) -> ReportVariation:
    return ReportVariation(
        id=vid,
        name=vid.upper(),
        is_baseline=baseline,
        visitors=visitors,
        conversions=0,
        conversion_rate=None,
        change_vs_baseline=None,
        confidence=confidence,
        chance_to_win=chance,
    )


def facts(
    days: float | None = 10,
    variations: list[ReportVariation] | None = None,
    status: str = "active",
    **more: Any,
) -> Facts:
    started = NOW - timedelta(days=days) if days is not None else None
    return Facts(
        now=NOW,
        running=status == "active",
        status=status,
        started_at=started,
        variations=variations,
        **more,
    )


SIGNIFICANT = [
    variation("a", 2000, chance=0.01, baseline=True),
    variation("b", 2000, confidence=0.99, chance=0.99),
]
FLAT = [
    variation("a", 2000, chance=0.4, baseline=True),
    variation("b", 2000, confidence=0.6, chance=0.6),
]
STOP_WHEN = {"min_runtime_days": 7, "min_visitors_per_variation": 1000, "confidence_at_least": 0.95}


def test_significant_and_guardrails_pass_fires_with_reasons() -> None:
    decision = evaluate(rule(STOP_WHEN), facts(10, SIGNIFICANT))
    assert decision.fire and decision.condition == "significant"
    assert decision.reasons == [
        "ran 10.00 days (min_runtime_days 7)",
        "every variation has at least 1000 visitors",
        "B reached confidence 0.99 (at least 0.95)",
    ]


def test_never_before_the_minimum_runtime() -> None:
    decision = evaluate(rule(STOP_WHEN), facts(2.5, SIGNIFICANT))
    assert not decision.fire
    assert decision.reasons == ["ran 2.50 days, under min_runtime_days 7"]
    assert not evaluate(rule(STOP_WHEN), facts(None, SIGNIFICANT)).fire


def test_too_few_visitors_or_not_significant_does_not_fire() -> None:
    few = [variation("a", 300, baseline=True), variation("b", 2000, confidence=0.99)]
    decision = evaluate(rule(STOP_WHEN), facts(10, few))
    assert not decision.fire
    assert decision.reasons[-1] == "A has 300 visitors, under min_visitors_per_variation 1000"
    decision = evaluate(rule(STOP_WHEN), facts(10, FLAT))
    assert (
        not decision.fire
        and decision.reasons[-1] == "not significant yet: best confidence 0.6 < 0.95"
    )
    assert not evaluate(rule(STOP_WHEN), facts(10, [])).fire


def test_chance_to_win_alone_and_a_report_without_confidence() -> None:
    no_confidence = [variation("a", 2000, baseline=True), variation("b", 2000, chance=0.97)]
    assert evaluate(rule({"chance_to_win_at_least": 0.95}), facts(1, no_confidence)).fire
    decision = evaluate(rule({"confidence_at_least": 0.95}), facts(1, no_confidence))
    assert not decision.fire and "gives no confidence" in decision.reasons[-1]


def test_limits_fire_without_significance_but_not_before_min_runtime() -> None:
    when = {
        "min_runtime_days": 7,
        "min_visitors_per_variation": 5000,
        "confidence_at_least": 0.95,
        "max_runtime_days": 30,
        "max_visitors": 10_000,
    }
    decision = evaluate(rule(when), facts(31, FLAT))
    assert (decision.fire, decision.condition) == (True, "max_runtime")
    big = [variation("a", 6000, baseline=True), variation("b", 6000, confidence=0.1)]
    assert evaluate(rule(when), facts(8, big)).condition == "max_visitors"
    assert not evaluate(rule(when), facts(3, big)).fire  # min runtime first
    decision = evaluate(rule({"max_visitors": 10_000}), facts(3, FLAT))
    assert not decision.fire and decision.reasons == ["no limit reached (4000 visitors, 3 days)"]


def test_only_a_minimum_runtime_fires_once_reached() -> None:
    assert evaluate(rule({"min_runtime_days": 7}), facts(8)).condition == "min_runtime"
    assert not evaluate(rule({"min_runtime_days": 7}), facts(6)).fire


def test_a_stopped_experiment_is_left_alone() -> None:
    decision = evaluate(rule(STOP_WHEN), facts(40, SIGNIFICANT, status="finished"))
    assert not decision.fire and decision.reasons == ["the experiment is finished, not running"]


def test_event_rule_matches_goal_metric_and_value() -> None:
    r = rule({"min_runtime_days": 1}, goal_id="refunds", metric="rate", value_at_least=0.05)
    fact = ThresholdFact("refunds", "rate", 0.07)
    decision = evaluate(r, facts(3, threshold=fact))
    assert (decision.fire, decision.condition) == (True, "goal:refunds:rate")
    assert decision.reasons == [
        "goal refunds rate reached 0.07",
        "ran 3.00 days (min_runtime_days 1)",
    ]
    other = evaluate(r, facts(3, threshold=ThresholdFact("signups", "rate", 0.07)))
    assert not other.fire and other.reasons == ["goal signups is not the rule's goal refunds"]
    low = evaluate(r, facts(3, threshold=ThresholdFact("refunds", "rate", 0.01)))
    assert low.reasons == ["rate 0.01 is under value_at_least 0.05"]
    early = evaluate(r, facts(0.5, threshold=fact))
    assert not early.fire and early.condition == "goal:refunds:rate"
    plain = rule({}, metric="rate")  # no guardrails: no upstream facts needed
    assert evaluate(plain, Facts(now=NOW, threshold=fact)).fire
