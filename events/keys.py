"""Names of the Redis keys shared by the ingress and the workers."""

from __future__ import annotations

PREFIX = "expbridge"
EVENT_INDEX = f"{PREFIX}:events"
DEAD_INDEX = f"{PREFIX}:dead"
ARQ_JOB_PREFIX = "arq:job:"  # arq's own job key prefix; the queue scripts write jobs directly


def event(event_id: str) -> str:
    return f"{PREFIX}:event:{event_id}"


def dispatch_counter(event_id: str) -> str:
    return f"{PREFIX}:dispatch:{event_id}"


def order(ordering_key: str) -> str:
    return f"{PREFIX}:order:{ordering_key}"


def idempotency(source: str, key: str) -> str:
    return f"{PREFIX}:idem:{source}:{key}"


RULE_EVALUATIONS = f"{PREFIX}:rules:evaluations"


def rule_fired(rule: str, target: str, condition: str) -> str:
    """Set (NX) when a rule fires for a target and condition: at most once, across restarts."""
    return f"{PREFIX}:rules:fired:{rule}:{target}:{condition}"


def rule_due(rule: str) -> str:
    """Held for a schedule rule's interval: one evaluation per interval across all workers."""
    return f"{PREFIX}:rules:due:{rule}"


def slack_seen(digest: str) -> str:
    """A Slack request signature already accepted (replay protection)."""
    return f"{PREFIX}:slack:seen:{digest}"
