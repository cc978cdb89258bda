"""Deciding whether a lifecycle rule fires: pure, no I/O. Facts in, a decision with its reasons out.

Order of the checks (config/conditions.py `Conditions`):
1. an event rule's trigger must match the incoming goal.threshold_reached;
2. the experiment must be running (when its status was read) — never act on a finished one;
3. guardrail min_runtime_days: never before the minimum runtime;
4. limits (max_runtime_days, max_visitors) fire once reached;
5. guardrail min_visitors_per_variation;
6. decisions on the counts (workers/rules/evidence.py): a degenerate report decides nothing;
   the SRM guard (a mismatch fires `srm` or refuses everything else); the bridge's own test
   (`significant`); the providers' fixed-horizon numbers (confidence, chance to win).
An event rule fires after 1-3 and 5's guardrail; a schedule rule with only min_runtime_days fires
once the runtime is reached.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from expbridge.config.conditions import Conditions
from expbridge.config.rules import Rule, Trigger
from expbridge.events.rules.statistics import EvaluationStatistics
from expbridge.workers.providers.reports import ReportVariation
from expbridge.workers.rules import evidence

DAY_S = 86400.0


@dataclass(frozen=True)
class ThresholdFact:
    """What a goal.threshold_reached event says."""

    goal_id: str
    metric: str
    value: float


@dataclass(frozen=True)
class Facts:
    now: datetime
    # Read from the experiment when a rule needs it (None: not read).
    running: bool | None = None
    status: str | None = None
    started_at: datetime | None = None
    # The normalised report's variations (None: not read).
    variations: Sequence[ReportVariation] | None = None
    # The provider's planned split, variation id -> percent (Convert variation `percentage`,
    # Qonversion group `weight`); None: not read or not given.
    planned_split: Mapping[str, float | None] | None = None
    threshold: ThresholdFact | None = None


@dataclass(frozen=True)
class Decision:
    fire: bool
    # What fired (or would): with the rule and target, the unit of "at most once".
    condition: str | None
    reasons: list[str] = field(default_factory=list)
    # What the counts said (rules that decide on them), and the variation that fired.
    statistics: EvaluationStatistics | None = None
    variation: str | None = None


def trigger_mismatch(trigger: Trigger, fact: ThresholdFact | None) -> str | None:
    if fact is None:
        return "no goal.threshold_reached event to match"
    if trigger.goal_id is not None and fact.goal_id != trigger.goal_id:
        return f"goal {fact.goal_id} is not the rule's goal {trigger.goal_id}"
    if trigger.metric is not None and fact.metric != trigger.metric:
        return f"metric {fact.metric} is not the rule's metric {trigger.metric}"
    if trigger.value_at_least is not None and fact.value < trigger.value_at_least:
        return f"{fact.metric} {fact.value:g} is under value_at_least {trigger.value_at_least:g}"
    if trigger.value_at_most is not None and fact.value > trigger.value_at_most:
        return f"{fact.metric} {fact.value:g} is over value_at_most {trigger.value_at_most:g}"
    return None


def runtime_days(facts: Facts) -> float | None:
    if facts.started_at is None:
        return None
    return max((facts.now - facts.started_at).total_seconds(), 0.0) / DAY_S


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _significant(variations: Sequence[ReportVariation], when: Conditions) -> str | None:
    for v in variations:
        name = v.name or v.id
        confidence = when.confidence_at_least
        if confidence is not None and (v.confidence or 0) >= confidence:
            return f"{name} reached confidence {_fmt(v.confidence)} (at least {confidence:g})"
        chance = when.chance_to_win_at_least
        if chance is not None and (v.chance_to_win or 0) >= chance:
            return f"{name} reached chance to win {_fmt(v.chance_to_win)} (at least {chance:g})"
    return None


def _best_so_far(variations: Sequence[ReportVariation], when: Conditions) -> str:
    wanted = []
    if when.confidence_at_least is not None:
        best = max((v.confidence for v in variations if v.confidence is not None), default=None)
        wanted.append(f"confidence {_fmt(best)} < {when.confidence_at_least:g}")
    if when.chance_to_win_at_least is not None:
        best = max(
            (v.chance_to_win for v in variations if v.chance_to_win is not None), default=None
        )
        wanted.append(f"chance to win {_fmt(best)} < {when.chance_to_win_at_least:g}")
    text = "not significant yet: best " + ", ".join(wanted)
    if when.chance_to_win_at_least is None and all(v.confidence is None for v in variations):
        text += " (this report gives no confidence: use chance_to_win_at_least)"
    return text


def evaluate(rule: Rule, facts: Facts) -> Decision:
    reasons: list[str] = []

    def no(reason: str, condition: str | None = None) -> Decision:
        return Decision(False, condition, [*reasons, reason])

    def yes(condition: str, reason: str | None = None) -> Decision:
        return Decision(True, condition, [*reasons, reason] if reason else reasons)

    trigger, when = rule.trigger, rule.when
    event_condition = None
    if trigger.event is not None:
        mismatch = trigger_mismatch(trigger, facts.threshold)
        if mismatch is not None:
            return no(mismatch)
        assert facts.threshold is not None
        fact = facts.threshold
        event_condition = f"goal:{fact.goal_id}:{fact.metric}"
        reasons.append(f"goal {fact.goal_id} {fact.metric} reached {fact.value:g}")
    if facts.running is False:
        return no(f"the experiment is {facts.status or 'not running'}, not running")
    runtime = runtime_days(facts)
    if when.min_runtime_days is not None:
        if runtime is None:
            return no("the experiment has no start time (not started)", event_condition)
        if runtime < when.min_runtime_days:
            return no(
                f"ran {runtime:.2f} days, under min_runtime_days {when.min_runtime_days:g}",
                event_condition,
            )
        reasons.append(f"ran {runtime:.2f} days (min_runtime_days {when.min_runtime_days:g})")
    variations = facts.variations or []
    limit_days = when.max_runtime_days
    if limit_days is not None and runtime is not None and runtime >= limit_days:
        return yes("max_runtime", f"reached max_runtime_days {limit_days:g}")
    total = sum(v.visitors for v in variations)
    if when.max_visitors is not None and total >= when.max_visitors:
        return yes("max_visitors", f"{total} visitors reached max_visitors {when.max_visitors}")
    if when.min_visitors_per_variation is not None:
        if not variations:
            return no("the report has no variations yet", event_condition)
        fewest = min(variations, key=lambda v: v.visitors)
        if fewest.visitors < when.min_visitors_per_variation:
            return no(
                f"{fewest.name or fewest.id} has {fewest.visitors} visitors, under "
                f"min_visitors_per_variation {when.min_visitors_per_variation}",
                event_condition,
            )
        reasons.append(f"every variation has at least {when.min_visitors_per_variation} visitors")
    if event_condition is not None:
        return yes(event_condition)
    if when.decides_on_counts:
        return _on_counts(when, variations, facts, reasons)
    if when.max_visitors is not None or when.max_runtime_days is not None:
        return no(f"no limit reached ({total} visitors, {_fmt(runtime)} days)")
    return yes("min_runtime")


def _on_counts(
    when: Conditions, variations: Sequence[ReportVariation], facts: Facts, reasons: list[str]
) -> Decision:
    if not variations:
        return Decision(False, None, [*reasons, "the report has no variations yet"])
    problem = evidence.report_problem(variations) or evidence.split_problem(variations, when)
    if problem is not None:
        return Decision(False, None, [*reasons, f"{problem}: nothing decided"])
    stats = evidence.weigh(variations, when, facts.planned_split)

    def decided(verdict: evidence.Verdict) -> Decision:
        return Decision(
            verdict.fire, verdict.condition, [*reasons, verdict.reason], stats, verdict.variation
        )

    mismatch = evidence.srm_verdict(stats, when)
    if mismatch is not None:
        return decided(mismatch)
    waiting = []
    if when.significant is not None:
        verdict = evidence.significance_verdict(stats, when)
        if verdict.fire:
            return decided(verdict)
        waiting.append(verdict.reason)
    if when.fixed_horizon:
        why = _significant(variations, when)
        if why:
            return decided(evidence.Verdict(True, "significant", why))
        waiting.append(_best_so_far(variations, when))
    if when.srm:
        waiting.append(f"visitors split as planned (SRM p {stats.srm_p_value:.3g})")
    if when.max_visitors is not None or when.max_runtime_days is not None:
        waiting.append("no limit reached")
    return Decision(False, None, [*reasons, *waiting], stats)
