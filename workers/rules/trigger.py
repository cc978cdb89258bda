"""goal.threshold_reached: the event-triggered rules evaluated against the event. Its one step,
`rules.evaluate`, is an ordinary step of the ledger (workers/plans/registry.py) that makes no
upstream call, so it takes no pacing slot. The status record's result says which rules fired
and, for each rule, why or why not."""

from __future__ import annotations

from typing import Any

from expbridge.config import spans
from expbridge.events.record import EventRecord, utcnow
from expbridge.events.rules.threshold import ThresholdReachedData
from expbridge.workers.deps import JobDeps
from expbridge.workers.plans.steps import Plan, PlannedStep
from expbridge.workers.providers.http import Outcome
from expbridge.workers.rules.actions import act
from expbridge.workers.rules.engine import Decision, ThresholdFact, evaluate, trigger_mismatch
from expbridge.workers.rules.facts import read_facts

STEP = "rules.evaluate"
# The `provider` of the step's span and log lines: the rules, not an upstream.
RULES = "rules"


async def evaluate_threshold_rules(
    deps: JobDeps, record: EventRecord, data: ThresholdReachedData
) -> dict[str, Any]:
    fact = ThresholdFact(data.goal_id, data.metric, data.value)
    outcomes: list[dict[str, Any]] = []
    for rule in deps.rules.on_threshold:
        mismatch = trigger_mismatch(rule.rule.trigger, fact)
        if not rule.applies_to(data.target):
            mismatch = f"the rule does not name {data.target.ordering_key}"
        if mismatch is not None:  # not this rule's event: no upstream reads, nothing logged
            outcomes.append({"rule": rule.name, "outcome": "not_met", "reasons": [mismatch]})
            continue
        when = rule.rule.when
        with spans.rule_span(rule.name, data.target.ordering_key, trigger=record):
            facts = await read_facts(
                deps,
                data.target,
                now=utcnow(),
                experiment=when.needs_experiment,
                report=when.needs_report,
                threshold=fact,
            )
            decision: Decision = evaluate(rule.rule, facts)
            evaluation = await act(deps, rule, data.target, decision, record.id, record.id)
        outcomes.append(
            evaluation.model_dump(
                mode="json",
                include={"rule", "outcome", "condition", "reasons", "events", "dry_run"},
            )
        )
    fired = [o["rule"] for o in outcomes if o["outcome"] == "fired"]
    return {"fired": fired, "rules": outcomes}


def evaluate_rules(data: ThresholdReachedData) -> PlannedStep:
    """Run again after a crash before the event finished, it queues nothing twice: a rule's
    firing is claimed once and its actions carry idempotency keys of their own."""

    async def run(deps: JobDeps, record: EventRecord, _: str) -> Outcome[Any]:
        return Outcome(None, await evaluate_threshold_rules(deps, record, data))

    return PlannedStep(STEP, RULES, run, paced=False)


THRESHOLD_PLAN = Plan(ThresholdReachedData, evaluate_rules)
