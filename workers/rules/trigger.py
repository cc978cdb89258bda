"""goal.threshold_reached: the event-triggered rules evaluated against the event (its one step,
`rules.evaluate`, makes no upstream change). The status record's result says which rules fired
and, for each rule, why or why not."""

from __future__ import annotations

from typing import Any

from expbridge.config import spans
from expbridge.config.rules import THRESHOLD_EVENT
from expbridge.events.catalog import CatalogError, parse_data
from expbridge.events.record import EventRecord, StepRecord, utcnow
from expbridge.events.rules.threshold import ThresholdReachedData
from expbridge.workers.deps import JobDeps
from expbridge.workers.plans.steps import UnplannableEvent
from expbridge.workers.rules.actions import act
from expbridge.workers.rules.engine import Decision, ThresholdFact, evaluate, trigger_mismatch
from expbridge.workers.rules.facts import read_facts

STEP = "rules.evaluate"


def _data(record: EventRecord) -> ThresholdReachedData:
    try:
        data = parse_data(THRESHOLD_EVENT, record.data)
    except CatalogError as error:
        if error.error is None:
            raise UnplannableEvent(
                f"no {THRESHOLD_EVENT} on {error.provider or 'no provider'}"
            ) from None
        raise UnplannableEvent(
            f"stored data no longer fits {THRESHOLD_EVENT}: {error.error}"
        ) from None
    assert isinstance(data, ThresholdReachedData)
    return data


async def evaluate_threshold_rules(deps: JobDeps, record: EventRecord) -> dict[str, Any]:
    data = _data(record)
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


async def run_threshold_step(deps: JobDeps, record: EventRecord) -> None:
    """The event's one step; done once (a retry after it is done changes nothing)."""
    step = record.step(STEP)
    if step is None:
        step = StepRecord(name=STEP, idempotency_key=f"{record.id}.{STEP}")
        record.steps.append(step)
    if step.status == "done":
        return
    step.attempts += 1
    with spans.step_span(STEP, "rules", step.attempts):
        result = await evaluate_threshold_rules(deps, record)
    step.status = "done"
    step.finished_at = utcnow()
    step.result = result
    record.result = result
    record.updated_at = utcnow()
    await deps.store.save(record)
