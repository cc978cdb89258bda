"""Schedule rules: an arq cron job (every minute) evaluates each rule whose interval is due —
reads its experiments' status and reports through the provider clients, decides, acts.

`evaluate_scheduled_rules` is the one evaluation pass; tests and operators may call it directly.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import structlog

from expbridge.config import spans, tracing
from expbridge.events import keys
from expbridge.events.record import utcnow
from expbridge.events.rules.evaluation_log import RuleEvaluation
from expbridge.events.targets import AnyTarget
from expbridge.workers.deps import DEPS, JobDeps
from expbridge.workers.rules.actions import act
from expbridge.workers.rules.book import BookRule
from expbridge.workers.rules.engine import evaluate
from expbridge.workers.rules.facts import read_facts

log = structlog.get_logger("expbridge.rules")
# The due key expires this much before the interval ends, so a cron tick a little early (arq
# enqueues up to a second ahead) does not skip a whole interval.
DUE_SLACK_MS = 5000


async def is_due(deps: JobDeps, rule: BookRule) -> bool:
    """One evaluation per interval across all workers (the key outlives restarts)."""
    assert rule.rule.trigger.schedule is not None
    interval_ms = int(rule.rule.trigger.schedule * 1000)
    hold_ms = max(interval_ms - DUE_SLACK_MS, 1000)
    return bool(await deps.redis.set(keys.rule_due(rule.name), "1", nx=True, px=hold_ms))


async def _evaluate_target(
    deps: JobDeps, rule: BookRule, target: AnyTarget, now: datetime, trigger: str
) -> RuleEvaluation:
    when = rule.rule.when
    try:
        facts = await read_facts(
            deps,
            target,
            now=now,
            experiment=True,
            report=when.needs_report,
            split=when.decides_on_counts and when.planned_split is None,
            goal_id=rule.rule.goal_id,
        )
        return await act(deps, rule, target, evaluate(rule.rule, facts), trigger)
    except Exception as error:  # one rule's trouble must not stop the others
        log.warning(
            "rule evaluation failed",
            rule=rule.name,
            target=target.ordering_key,
            error=f"{type(error).__name__}: {error}",
        )
        evaluation = RuleEvaluation(
            rule=rule.name,
            target=target.ordering_key,
            trigger=trigger,
            outcome="error",
            reasons=[f"could not evaluate: {type(error).__name__}: {error}"],
            dry_run=rule.dry_run,
            trace_id=tracing.current_trace_id(),
        )
        await deps.rule_log.add(evaluation)
        deps.metrics.rule_evaluations.labels(rule.name, evaluation.outcome).inc()
        return evaluation


async def evaluate_scheduled_rules(
    deps: JobDeps, *, now: datetime | None = None, only_due: bool = True
) -> list[RuleEvaluation]:
    now = now or utcnow()
    # Names this pass in the evaluations and the firing keys.
    trigger = f"schedule:{now.isoformat(timespec='seconds')}/{uuid.uuid4().hex[:8]}"
    evaluations = []
    for rule in deps.rules.scheduled:
        if only_due and not await is_due(deps, rule):
            continue
        for target in rule.targets:
            with spans.rule_span(rule.name, target.ordering_key):
                evaluations.append(await _evaluate_target(deps, rule, target, now, trigger))
    return evaluations


async def rules_tick(ctx: dict[str, Any]) -> int:
    """The arq cron job: a trace of its own (each rule's actions carry it on)."""
    with spans.root_span("rules schedule"):
        evaluations = await evaluate_scheduled_rules(ctx[DEPS])
    return len(evaluations)
