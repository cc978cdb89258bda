"""The arq job that carries out one accepted event.

In arq only a raised `Retry` is retried; any other exception (and arq's own job timeout) fails
the job for good and would strand the event at the head of its line. So every path below ends
in exactly one of: succeeded, retrying (raise Retry), or dead — never a stray exception.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import structlog
from arq import Retry
from pydantic import BaseModel, ValidationError

from expbridge.config import spans
from expbridge.config.callbacks import CallbackOutcome
from expbridge.config.rules import THRESHOLD_EVENT
from expbridge.events import keys
from expbridge.events.record import ErrorInfo, EventRecord, StepRecord, utcnow
from expbridge.events.store.records import is_salvaged, parse_record
from expbridge.workers.deps import DEPS, JobDeps
from expbridge.workers.pacing import ProviderBusy
from expbridge.workers.plans.registry import UnplannableEvent, plan_event
from expbridge.workers.providers.errors import TransientUpstreamError, UpstreamError
from expbridge.workers.rules.trigger import run_threshold_step

log = structlog.get_logger("expbridge.worker")


def _result_of(value: Any) -> dict[str, Any] | None:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value if isinstance(value, dict) else None


async def run_steps(deps: JobDeps, record: EventRecord, dispatch: int) -> None:
    if record.type == THRESHOLD_EVENT:  # a fact for the lifecycle rules, no upstream change
        await run_threshold_step(deps, record)
        return
    for planned in plan_event(record):
        step = record.step(planned.name)
        if step is None:
            step = StepRecord(name=planned.name, idempotency_key="")
            record.steps.append(step)
        if step.status == "done":
            continue  # done before a crash, a retry or a replay: never sent again
        # Stable for every retry of this dispatch; a replay gets a fresh key, so an upstream
        # that remembered the failure it answered last time does not answer it again.
        step.idempotency_key = f"{record.id}.{dispatch}.{planned.name}"
        structlog.contextvars.bind_contextvars(step=planned.name, provider=planned.provider)
        try:
            async with deps.gate.slot(planned.provider):
                step.attempts += 1
                # Saved before the call: if this worker dies mid-call, the next run sees an
                # attempt whose outcome is unknown (creates then look up before creating).
                await deps.store.save(record)
                with spans.step_span(planned.name, planned.provider, step.attempts):
                    outcome = await planned.run(deps.clients, record, step.idempotency_key)
        except UpstreamError as error:
            step.status = "pending" if error.transient else "failed"
            step.upstream_status = error.status
            raise
        except ValidationError as error:
            raise TransientUpstreamError(
                planned.provider, f"unexpected response shape: {error.error_count()} errors"
            ) from error
        step.status = "done"
        step.upstream_status = outcome.status
        step.finished_at = utcnow()
        step.result = _result_of(outcome.value)
        record.result = step.result
        record.updated_at = utcnow()
        await deps.store.save(record)


async def process_event(ctx: dict[str, Any], event_id: str, dispatch: int) -> str:
    deps: JobDeps = ctx[DEPS]
    raw, current = await deps.redis.mget(keys.event(event_id), keys.dispatch_counter(event_id))
    if raw is None:
        log.warning("event record missing; nothing to do")
        return "missing"
    record = parse_record(raw)
    if record is None:
        log.error("event record unreadable, even its id and target; left as it is")
        return "unreadable"
    if record.is_terminal or (current is not None and int(current) != dispatch):
        return "stale"  # an old job run again after the event moved on
    if is_salvaged(record):
        # Cannot be carried out, and must not hold up its line: dead, with the reason.
        assert record.last_error is not None
        await _dead(deps, record, record.last_error)
        return record.status
    with spans.attempt_span(record, dispatch):
        return await _attempt(deps, record, dispatch)


async def _attempt(deps: JobDeps, record: EventRecord, dispatch: int) -> str:
    """One attempt, inside its span (a child of the span that accepted the event)."""
    if record.trace_context is None:  # accepted untraced: later attempts join this trace
        spans.keep_trace(record)
    record.attempts += 1
    record.status = "running"
    record.updated_at = utcnow()
    structlog.contextvars.bind_contextvars(
        event_id=record.id, type=record.type, source=record.source, target=record.target,
        attempt=record.attempts,
    )  # fmt: skip
    await deps.store.save(record)
    started = time.perf_counter()
    retry: Retry | None = None
    try:
        async with asyncio.timeout(deps.attempt_budget_s):
            await run_steps(deps, record, dispatch)
    except UpstreamError as error:
        retry = await _failed(deps, record, error)
    except TimeoutError:
        slow = TransientUpstreamError("-", f"attempt took over {deps.attempt_budget_s:g}s")
        retry = await _failed(deps, record, slow)
    except ProviderBusy as busy:
        retry = await _wait_for_provider(deps, record, busy)
    except UnplannableEvent as error:
        await _dead(deps, record, ErrorInfo(kind="unplannable", message=str(error)))
    except Exception as error:  # our own bug: the event ends dead with the reason, never silently
        log.exception("unexpected error in job")
        info = ErrorInfo(kind="internal", message=f"{type(error).__name__}: {error}")
        await _dead(deps, record, info)
    else:
        await _finish(deps, record, "succeeded")
    finally:
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        last = record.steps[-1] if record.steps else None
        spans.current_outcome(
            record.status not in ("retrying", "dead"), record.status,
            **{"expbridge.event.status": record.status},
        )  # fmt: skip
        log.info(
            "job attempt", status=record.status, duration_ms=duration_ms,
            upstream_status=last.upstream_status if last else None,
        )  # fmt: skip
    if retry is not None:
        raise retry
    return record.status


def _error_info(error: UpstreamError) -> ErrorInfo:
    return ErrorInfo(
        kind=error.kind, message=error.message, upstream_status=error.status,
        provider=error.provider, code=error.code, body=error.body,
    )  # fmt: skip


async def _failed(deps: JobDeps, record: EventRecord, error: UpstreamError) -> Retry | None:
    info = _error_info(error)
    if not isinstance(error, TransientUpstreamError):
        await _dead(deps, record, info)
        return None
    age_s = (utcnow() - record.started_at).total_seconds()
    decision = deps.policy.decide(
        record.attempts, age_s, retry_after_s=error.retry_after_s, rate_limited=error.rate_limited
    )
    if not decision.retry:
        info.message = f"{info.message}; {decision.reason}"
        await _dead(deps, record, info)
        return None
    deps.metrics.job_retrying(record)
    return await _retry_later(deps, record, info, decision.delay_s)


async def _wait_for_provider(
    deps: JobDeps, record: EventRecord, busy: ProviderBusy
) -> Retry | None:
    """Circuit open or pace exceeded: wait in `retrying` without using up an attempt."""
    record.attempts -= 1
    info = ErrorInfo(kind="provider_busy", message=str(busy), provider=busy.provider)
    age_s = (utcnow() - record.started_at).total_seconds()
    if age_s + busy.wait_s > deps.settings.retry.max_age_s:
        info.message += (
            f"; gave up: the event would be older than {deps.settings.retry.max_age_s:g}s"
        )
        await _dead(deps, record, info)
        return None
    return await _retry_later(deps, record, info, busy.wait_s)


async def _retry_later(
    deps: JobDeps, record: EventRecord, info: ErrorInfo, delay_s: float
) -> Retry:
    record.status = "retrying"
    record.last_error = info
    record.updated_at = utcnow()
    record.next_attempt_at = record.updated_at + timedelta(seconds=delay_s)
    await deps.store.save(record)
    spans.current_event("retry", {
        "expbridge.retry.delay_s": round(delay_s, 3), "expbridge.retry.reason": info.message,
        "expbridge.next_attempt_at": record.next_attempt_at.isoformat(),
        **({"http.response.status_code": info.upstream_status} if info.upstream_status else {}),
    })  # fmt: skip
    return Retry(defer=delay_s)


async def _dead(deps: JobDeps, record: EventRecord, info: ErrorInfo) -> None:
    record.last_error = info
    log.warning("event dead", reason=info.message, upstream_status=info.upstream_status)
    await _finish(deps, record, "dead")


async def _finish(deps: JobDeps, record: EventRecord, status: str) -> None:
    record.status = "dead" if status == "dead" else "succeeded"
    record.next_attempt_at = None
    record.updated_at = utcnow()
    await _queue_callbacks(deps, record)
    now_ms = int(time.time() * 1000)
    await deps.scripts.finish(
        keys=deps.scripts.finish_keys(record.id, record.target),
        args=[
            record.id, record.stored_json(), now_ms, deps.job_expiry_ms,
            deps.retention_ms, "1" if status == "dead" else "0",
        ],
    )  # fmt: skip
    deps.metrics.job_finished(record)
    deps.notifier.event_finished(record)  # in the background: never holds up the job


async def _queue_callbacks(deps: JobDeps, record: EventRecord) -> None:
    """Before FINISH, so a crash in between queues them again (once: idempotent by outcome).
    A callback never fails the event it reports on: a failure to queue one is logged."""
    outcome: CallbackOutcome = "dead" if record.status == "dead" else "succeeded"
    try:
        await deps.callbacks.event_outcome(record, outcome)
    except Exception:
        log.exception("could not queue the outcome callbacks", outcome=outcome)
