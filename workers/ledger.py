"""The step ledger: an event's one step, run at most once to done.

The status record keeps the step (`steps`, one entry, as the API shows it): its attempts, its
idempotency key, its outcome. A step recorded done is never sent again — after a crash, a
retry or a replay the job finds it done and goes straight to FINISH.
"""

from __future__ import annotations

from typing import Any

import structlog
from pydantic import BaseModel, ValidationError

from expbridge.config import spans
from expbridge.events.record import StepRecord, utcnow
from expbridge.workers.deps import JobDeps
from expbridge.workers.job_writes import JobWrites
from expbridge.workers.pacing import ProviderBusy
from expbridge.workers.plans.registry import plan_event
from expbridge.workers.providers.errors import TransientUpstreamError, UpstreamError


def _result_of(value: Any) -> dict[str, Any] | None:
    if isinstance(value, BaseModel):
        # An upstream object (extra fields allowed) as the provider sent it, without its nulls;
        # a shape of ours (a normalised report) in full, its nulls being part of the shape.
        as_sent = value.model_config.get("extra") == "allow"
        return value.model_dump(mode="json", exclude_unset=as_sent, exclude_none=as_sent)
    return value if isinstance(value, dict) else None


async def run_step(deps: JobDeps, writes: JobWrites) -> None:
    """The event's step, unless done already; its outcome is left in the record for FINISH
    (or the retry's save) to store."""
    record = writes.record
    planned = plan_event(record)
    step = record.step(planned.name)
    if step is None:
        step = StepRecord(name=planned.name, idempotency_key="")
        record.steps.append(step)
    if step.status == "done":
        return  # done before a crash, a retry or a replay: never sent again
    # Stable for every retry of this dispatch; a replay gets a fresh key, so an upstream that
    # remembered the failure it answered last time does not answer it again.
    step.idempotency_key = f"{record.id}.{writes.dispatch}.{planned.name}"
    structlog.contextvars.bind_contextvars(step=planned.name, provider=planned.provider)
    step.attempts += 1
    try:
        # Saved with the slot, before the call: if this worker dies mid-call, the next run sees
        # an attempt whose outcome is unknown (creates then look up before creating).
        await writes.begin_step(planned.provider if planned.paced else None)
    except ProviderBusy:
        step.attempts -= 1  # not made
        raise
    step.started_at = utcnow()
    try:
        with spans.step_span(planned.name, planned.provider, step.attempts):
            outcome = await planned.run(deps, record, step.idempotency_key)
    except UpstreamError as error:
        writes.call_ended(error)
        step.status = "pending" if error.transient else "failed"
        step.upstream_status = error.status
        raise
    except ValidationError as error:
        writes.call_ended(error)
        raise TransientUpstreamError(
            planned.provider, f"unexpected response shape: {error.error_count()} errors"
        ) from error
    except BaseException as error:
        writes.call_ended(error)
        raise
    writes.call_ended(None)
    step.status = "done"
    step.upstream_status = outcome.status
    step.finished_at = record.updated_at = utcnow()
    step.result = record.result = _result_of(outcome.value)
