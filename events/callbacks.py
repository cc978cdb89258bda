"""Outcome callbacks, as the bridge queues them: each one is an ordinary event of the internal
type `callback.deliver`, so it is delivered by the workers through the same machinery as an
upstream step — its own line per subscription (ordered), retries with backoff and Retry-After,
pacing and a circuit breaker per destination host, a record, dead letters and replay.

Queued with an idempotency key made of the event, the outcome and the subscription: whatever
queues it twice (a job run again after a crash) queues it once. The callback's record keeps
the CloudEvent it sends; the secrets stay in settings and are read at every attempt.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from yarl import URL

from expbridge.config import spans
from expbridge.config.callbacks import CallbackOutcome
from expbridge.config.sources import SourceCredentials
from expbridge.events.record import EventRecord
from expbridge.events.rules.evaluation_log import RuleEvaluation
from expbridge.events.store.acceptor import Acceptor, new_event_id
from expbridge.events.store.submit import Submission, submit

CALLBACK_EVENT = "callback.deliver"
CALLBACK_PROVIDER = "callback"
# The CloudEvent `source` of every callback.
BRIDGE_SOURCE = "expbridge"
_TYPES: Mapping[str, str] = {
    "succeeded": "expbridge.event.succeeded",
    "dead": "expbridge.event.dead",
    "cancelled": "expbridge.event.cancelled",
    "due": "expbridge.event.due",
    "rule.fired": "expbridge.rule.fired",
    "rule.srm": "expbridge.rule.srm",
}


def destination(url: str) -> str:
    """What callbacks are paced and circuit-broken by: `callback:<host>` (the workers' pace
    and breaker keys, and the console's providers page)."""
    return f"callback:{URL(url).host or '-'}"


def _join_trace(trace_context: dict[str, str] | None, record: EventRecord) -> None:
    """The active trace (the attempt that ended the event), else the one given."""
    spans.keep_trace(record)
    if record.trace_context is None and trace_context is not None:
        record.trace_context = trace_context
        record.trace_id = _trace_id_of(trace_context)


class CallbackTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Literal["callback"] = "callback"
    source: str
    subscription: str

    @property
    def ordering_key(self) -> str:
        """One line per subscription: its callbacks arrive in the order they were queued."""
        return f"callback:{self.source}/{self.subscription}"

    @property
    def resource(self) -> str:
        return "subscription"


class CallbackData(BaseModel):
    """The data of a `callback.deliver` event: where it goes and the CloudEvent it sends."""

    model_config = ConfigDict(extra="forbid")

    target: CallbackTarget
    url: str
    cloudevent: dict[str, Any]

    @property
    def ordering_key(self) -> str:
        return self.target.ordering_key


def cloudevent(
    callback_id: str, outcome: CallbackOutcome, subject: str, data: Any
) -> dict[str, Any]:
    """The callback as a CloudEvent 1.0 in structured JSON. Its id is the webhook-id."""
    return {
        "specversion": "1.0",
        "id": callback_id,
        "type": _TYPES[outcome],
        "source": BRIDGE_SOURCE,
        "subject": subject,
        "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "data": data,
    }


def _trace_id_of(carrier: dict[str, str]) -> str | None:
    parts = carrier.get("traceparent", "").split("-")
    return parts[1] if len(parts) == 4 else None


class Callbacks:
    """Queues the callbacks a source subscribed to (shared by the workers and the ingress)."""

    def __init__(self, acceptor: Acceptor, sources: Mapping[str, SourceCredentials]) -> None:
        self.acceptor = acceptor
        self.sources = sources

    def wanted(self, source: str, outcome: CallbackOutcome) -> bool:
        credentials = self.sources.get(source)
        return credentials is not None and any(
            outcome in subscription.outcomes for subscription in credentials.subscriptions
        )

    async def queue(
        self,
        source: str,
        outcome: CallbackOutcome,
        subject: str,
        data: Any,
        trace_context: dict[str, str] | None = None,
    ) -> list[str]:
        """Queue one callback per subscription of `source` that wants `outcome`; the ids.
        The callback joins the active trace (the attempt that ended the event), else the one
        given: its delivery sends `traceparent` on to the receiver."""
        credentials = self.sources.get(source)
        if credentials is None:
            return []
        queued = []
        for subscription in credentials.subscriptions:
            if outcome not in subscription.outcomes:
                continue
            # provider set explicitly: the stored data keeps it (submit stores what was set).
            target = CallbackTarget(
                provider="callback", source=source, subscription=subscription.name
            )
            callback_id = new_event_id()
            body = CallbackData(
                target=target,
                url=subscription.url,
                cloudevent=cloudevent(callback_id, outcome, subject, data),
            )
            once = f"{subject}:{outcome}:{subscription.name}"
            accepted = await submit(
                self.acceptor,
                CALLBACK_EVENT,
                source,
                body,
                idempotency_key="callback:" + hashlib.sha256(once.encode()).hexdigest(),
                fingerprint=once,
                event_id=callback_id,
                about=Submission(prepare=functools.partial(_join_trace, trace_context)),
            )
            queued.append(accepted.event_id)
        return queued

    async def rule_decided(self, evaluation: RuleEvaluation, firing_id: str) -> list[str]:
        """A rule fired (once per firing): to every subscription, of any source, that wants
        rule decisions. `rule.srm` when what fired is the sample-ratio-mismatch guard."""
        outcome: CallbackOutcome = "rule.srm" if evaluation.condition == "srm" else "rule.fired"
        data = evaluation.model_dump(mode="json")
        queued = []
        for source in self.sources:
            queued += await self.queue(source, outcome, firing_id, data)
        return queued

    async def event_outcome(self, record: EventRecord, outcome: CallbackOutcome) -> list[str]:
        """An event ended (or became due): its public status record goes to the subscribers.
        Callbacks about callbacks are never sent."""
        if record.type == CALLBACK_EVENT or not self.wanted(record.source, outcome):
            return []
        return await self.queue(
            record.source, outcome, record.id, record.public(), record.trace_context
        )
