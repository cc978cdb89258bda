"""Carrying out a rule's decision: record it, and when it fires (not in dry run) queue its action
events through the same atomic accept as the ingress (source "rules") and post its notifications.

At most once per (rule, target, condition), across restarts: a Redis key claimed with SET NX
(expiring after the rule's cool-down, if it has one). The claim is made before anything is
queued and marked `fired` after; a run that finds its own or an unfinished claim (a worker died
in between) queues again with the same idempotency keys, so nothing is queued twice.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import structlog

from expbridge.config import spans, tracing
from expbridge.events import keys
from expbridge.events.event_data import EventData
from expbridge.events.record import Cause
from expbridge.events.rules.evaluation_log import RuleEvaluation
from expbridge.events.store.submit import (
    IdempotencyConflict,
    IdempotencyInFlight,
    QueueUnavailable,
    Submission,
    submit,
)
from expbridge.events.targets import AnyTarget
from expbridge.workers.deps import JobDeps
from expbridge.workers.rules.book import BookRule, action_data
from expbridge.workers.rules.engine import Decision

SOURCE = "rules"
log = structlog.get_logger("expbridge.rules")


class _Claim:
    """The firing key's value: {"state": "firing"|"fired", "trigger", "at_ms", "events"}."""

    def __init__(self, raw: dict[str, Any], trigger: str, fresh: bool) -> None:
        self.raw = raw
        self.fresh = fresh
        self.same_trigger = raw.get("trigger") == trigger

    @property
    def unfinished(self) -> bool:
        """Ours just now, or one a worker died in the middle of: queue (again) and finish it."""
        return self.fresh or self.raw.get("state") == "firing"


async def _claim(deps: JobDeps, rule: BookRule, key: str, trigger: str) -> _Claim:
    mine = {"state": "firing", "trigger": trigger, "at_ms": int(time.time() * 1000), "events": []}
    if await deps.redis.set(key, json.dumps(mine), nx=True, px=rule.cooldown_ms):
        return _Claim(mine, trigger, fresh=True)
    raw = await deps.redis.get(key)
    if raw is None:  # the cool-down ended just now
        return await _claim(deps, rule, key, trigger)
    return _Claim(json.loads(raw), trigger, fresh=False)


def _fingerprint(event_type: str, data: EventData) -> str:
    dumped = data.model_dump(mode="json", exclude_unset=True)
    body = json.dumps([event_type, dumped], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


async def _queue_actions(
    deps: JobDeps, rule: BookRule, target: AnyTarget, cause: Cause, claim_id: str
) -> list[str]:
    queued = []
    for index, action in enumerate(rule.rule.actions):
        if action.event is None:
            continue
        data = action_data(action, target)
        try:
            accepted = await submit(
                deps.acceptor,
                action.event,
                SOURCE,
                data,
                idempotency_key=f"{claim_id}:{index}",
                fingerprint=_fingerprint(action.event, data),
                # The rule's evaluation span: the action carries it on.
                about=Submission(cause=cause, prepare=spans.keep_trace),
            )
        except (IdempotencyConflict, IdempotencyInFlight):
            log.warning("rule action already queued with other data", rule=rule.name)
            continue
        except QueueUnavailable as unavailable:  # the job handles Redis errors as before
            raise unavailable.cause from None
        queued.append(accepted.event_id)
    return queued


def _fill(template: str, values: dict[str, str]) -> str:
    class Known(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return template.format_map(Known(values))


async def _notify(
    deps: JobDeps, rule: BookRule, target: AnyTarget, reason: str, events: list[str]
) -> None:
    values = {
        "rule": rule.name,
        "target": target.ordering_key,
        "reason": reason,
        "events": ", ".join(events) or "none",
    }
    for action in rule.rule.actions:
        if action.notify is None:
            continue
        url = action.notify.webhook_url or deps.settings.slack.notify_webhook_url
        if url is not None:
            await deps.notifier.post(url, {"text": _fill(action.notify.text, values)}, "rule")


async def act(
    deps: JobDeps,
    rule: BookRule,
    target: AnyTarget,
    decision: Decision,
    trigger: str,
    trigger_event_id: str | None = None,
) -> RuleEvaluation:
    """Record the decision; fire when it says so. Returns what was recorded."""
    evaluation = RuleEvaluation(
        rule=rule.name,
        target=target.ordering_key,
        trigger=trigger,
        outcome="not_met",
        condition=decision.condition,
        variation=decision.variation,
        reasons=list(decision.reasons),
        dry_run=rule.dry_run,
        statistics=decision.statistics,
        trace_id=tracing.current_trace_id(),
    )
    if decision.fire and rule.dry_run:
        evaluation.outcome = "dry_run"
    elif decision.fire:
        assert decision.condition is not None
        key = keys.rule_fired(rule.name, target.ordering_key, decision.condition)
        claim = await _claim(deps, rule, key, trigger)
        if claim.unfinished:
            reason = "; ".join(decision.reasons)
            cause = Cause(
                kind="rule",
                rule=rule.name,
                condition=decision.condition,
                reason=reason,
                statistics=decision.statistics,
                trigger_event_id=trigger_event_id,
            )
            claim_id = (
                f"{rule.name}:{target.ordering_key}:{decision.condition}:{claim.raw['at_ms']}"
            )
            evaluation.events = await _queue_actions(deps, rule, target, cause, claim_id)
            evaluation.outcome = "fired"
            # Before the claim is marked fired, so a crash in between queues them again (once).
            await deps.callbacks.rule_decided(evaluation, claim_id)
            done = {**claim.raw, "state": "fired", "events": evaluation.events}
            await deps.redis.set(key, json.dumps(done), xx=True, keepttl=True)
            if claim.fresh or claim.same_trigger:
                await _notify(deps, rule, target, reason, evaluation.events)
        elif claim.same_trigger:  # the trigger that fired it, run again: the same answer
            evaluation.outcome = "fired"
            evaluation.events = list(claim.raw.get("events", []))
        else:
            evaluation.outcome = "already_fired"
            evaluation.events = list(claim.raw.get("events", []))
            evaluation.reasons.append(
                f"already fired for this target and condition (by {claim.raw.get('trigger')})"
            )
    await deps.rule_log.add(evaluation)
    deps.metrics.rule_evaluations.labels(rule.name, evaluation.outcome).inc()
    spans.current_outcome(True, **{"expbridge.rule.outcome": evaluation.outcome})
    log.info(
        f"rule {evaluation.outcome}",
        rule=rule.name,
        target=evaluation.target,
        trigger=trigger,
        condition=evaluation.condition,
        variation=evaluation.variation,
        reasons=evaluation.reasons,
        events=evaluation.events,
        dry_run=rule.dry_run,
        statistics=None
        if decision.statistics is None
        else decision.statistics.model_dump(mode="json"),
    )
    return evaluation
