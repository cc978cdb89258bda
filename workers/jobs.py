"""The arq job that carries out one accepted event.

In arq only a raised `Retry` is retried; any other exception (and arq's own job timeout) fails
the job for good and would strand the event at the head of its line. So every path below ends
in exactly one of: succeeded, retrying (raise Retry), or dead — never a stray exception.

A Redis error is weather, not a verdict on the event: wherever a job meets one (reading the
record, saving `running`, after a step, finishing), the event stays where it is — its record
says what it last knew, its steps recorded done stay done — and the job runs again after a
short backoff (arq keeps the job for that). If Redis cannot even take the retry, the job's
in-progress key expires and arq runs it again; the sweeper (workers/sweeper.py) gives a line
whose head lost its job a new one.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import structlog
from arq import Retry
from redis.exceptions import RedisError

from expbridge.config import spans
from expbridge.config.callbacks import CallbackOutcome
from expbridge.events import keys
from expbridge.events.record import ErrorInfo, EventRecord, utcnow
from expbridge.events.store.connection import describe_redis_error
from expbridge.events.store.records import is_salvaged, parse_record
from expbridge.workers.deps import DEPS, JobDeps
from expbridge.workers.job_writes import JobWrites, StaleDispatch
from expbridge.workers.ledger import run_step
from expbridge.workers.pacing import ProviderBusy
from expbridge.workers.plans.registry import UnplannableEvent
from expbridge.workers.providers.errors import TransientUpstreamError, UpstreamError

log = structlog.get_logger("expbridge.worker")
# A job that met a Redis error runs again after this many seconds times its try, at most the max.
REDIS_RETRY_BASE_S = 0.5
REDIS_RETRY_MAX_S = 10.0


async def process_event(ctx: dict[str, Any], event_id: str, dispatch: int) -> str:
    try:
        return await _carry_out(ctx[DEPS], str(ctx["job_id"]), event_id, dispatch)
    except RedisError as error:
        delay_s = min(REDIS_RETRY_BASE_S * int(ctx.get("job_try") or 1), REDIS_RETRY_MAX_S)
        log.warning(
            "redis trouble during the job: it runs again",
            error=describe_redis_error(error),
            retry_in_s=delay_s,
        )
        raise Retry(defer=delay_s) from None


async def _carry_out(deps: JobDeps, job_id: str, event_id: str, dispatch: int) -> str:
    read = deps.prefetched(job_id) if deps.prefetched is not None else None
    if read is None:  # not claimed by BridgeWorker (tests running jobs directly)
        read = await deps.redis.mget(keys.event(event_id), keys.dispatch_counter(event_id))
    raw, current = read
    if raw is None:
        log.warning("event record missing; nothing to do")
        return "missing"
    record = parse_record(raw)
    if record is None:
        log.error("event record unreadable, even its id and target; left as it is")
        return "unreadable"
    if record.is_terminal or (current is not None and int(current) != dispatch):
        return "stale"  # an old job run again after the event moved on
    writes = JobWrites(deps.job_scripts, record, dispatch)
    try:
        if is_salvaged(record):
            # Cannot be carried out, and must not hold up its line: dead, with the reason.
            assert record.last_error is not None
            await _dead(deps, writes, record.last_error)
            return record.status
        with spans.attempt_span(record, dispatch):
            return await _attempt(deps, writes)
    except StaleDispatch:
        return "stale"  # dispatched again (replayed, cancelled) since this job was queued
    finally:
        await writes.release_if_held()


async def _attempt(deps: JobDeps, writes: JobWrites) -> str:
    """One attempt, inside its span (a child of the span that accepted the event)."""
    record = writes.record
    if record.trace_context is None:  # accepted untraced: later attempts join this trace
        spans.keep_trace(record)
    record.attempts += 1
    record.status = "running"
    record.updated_at = utcnow()
    structlog.contextvars.bind_contextvars(
        event_id=record.id,
        type=record.type,
        source=record.source,
        target=record.target,
        attempt=record.attempts,
    )
    started = time.perf_counter()
    retry: Retry | None = None
    try:
        async with asyncio.timeout(deps.attempt_budget_s):
            await run_step(deps, writes)
    except StaleDispatch:
        raise
    except UpstreamError as error:
        retry = await _failed(deps, writes, error)
    except TimeoutError:
        slow = TransientUpstreamError("-", f"attempt took over {deps.attempt_budget_s:g}s")
        retry = await _failed(deps, writes, slow)
    except ProviderBusy as busy:
        retry = await _wait_for_provider(deps, writes, busy)
    except UnplannableEvent as error:
        await _dead(deps, writes, ErrorInfo(kind="unplannable", message=str(error)))
    except RedisError:
        raise  # weather: process_event makes the job run again
    except Exception as error:  # our own bug: the event ends dead with the reason, never silently
        log.exception("unexpected error in job")
        info = ErrorInfo(kind="internal", message=f"{type(error).__name__}: {error}")
        await _dead(deps, writes, info)
    else:
        await _finish(deps, writes, "succeeded")
    finally:
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        last = record.steps[-1] if record.steps else None
        spans.current_outcome(
            record.status not in ("retrying", "dead"),
            record.status,
            **{"expbridge.event.status": record.status},
        )
        deps.attempt_line(
            "job attempt",
            {
                "status": record.status,
                "duration_ms": duration_ms,
                "upstream_status": last.upstream_status if last else None,
            },
        )
    if retry is not None:
        raise retry
    return record.status


def _error_info(error: UpstreamError) -> ErrorInfo:
    return ErrorInfo(
        kind=error.kind,
        message=error.message,
        upstream_status=error.status,
        provider=error.provider,
        code=error.code,
        body=error.body,
    )


async def _failed(deps: JobDeps, writes: JobWrites, error: UpstreamError) -> Retry | None:
    record, info = writes.record, _error_info(error)
    if not isinstance(error, TransientUpstreamError):
        await _dead(deps, writes, info)
        return None
    age_s = (utcnow() - record.started_at).total_seconds()
    decision = deps.policy.decide(
        record.attempts, age_s, retry_after_s=error.retry_after_s, rate_limited=error.rate_limited
    )
    if not decision.retry:
        info.message = f"{info.message}; {decision.reason}"
        await _dead(deps, writes, info)
        return None
    deps.metrics.job_retrying(record)
    return await _retry_later(writes, info, decision.delay_s)


async def _wait_for_provider(deps: JobDeps, writes: JobWrites, busy: ProviderBusy) -> Retry | None:
    """Circuit open or pace exceeded: wait in `retrying` without using up an attempt."""
    record = writes.record
    record.attempts -= 1
    info = ErrorInfo(kind="provider_busy", message=str(busy), provider=busy.provider)
    age_s = (utcnow() - record.started_at).total_seconds()
    if age_s + busy.wait_s > deps.settings.retry.max_age_s:
        info.message += (
            f"; gave up: the event would be older than {deps.settings.retry.max_age_s:g}s"
        )
        await _dead(deps, writes, info)
        return None
    return await _retry_later(writes, info, busy.wait_s)


async def _retry_later(writes: JobWrites, info: ErrorInfo, delay_s: float) -> Retry:
    record = writes.record
    record.status = "retrying"
    record.last_error = info
    record.updated_at = utcnow()
    record.next_attempt_at = record.updated_at + timedelta(seconds=delay_s)
    waited = info.kind == "provider_busy"  # see _wait_for_provider
    record.note_failed_attempt(writes.started_at, "waiting" if waited else "retrying", info)
    await writes.save()
    spans.current_event(
        "retry",
        {
            "expbridge.retry.delay_s": round(delay_s, 3),
            "expbridge.retry.reason": info.message,
            "expbridge.next_attempt_at": record.next_attempt_at.isoformat(),
            **({"http.response.status_code": info.upstream_status} if info.upstream_status else {}),
        },
    )
    return Retry(defer=delay_s)


async def _dead(deps: JobDeps, writes: JobWrites, info: ErrorInfo) -> None:
    writes.record.last_error = info
    writes.record.note_failed_attempt(writes.started_at, "dead", info)
    log.warning("event dead", reason=info.message, upstream_status=info.upstream_status)
    await _finish(deps, writes, "dead")


async def _finish(deps: JobDeps, writes: JobWrites, status: str) -> None:
    record = writes.record
    record.status = "dead" if status == "dead" else "succeeded"
    record.next_attempt_at = None
    record.updated_at = utcnow()
    await _queue_callbacks(deps, record)
    now_ms = int(time.time() * 1000)
    next_job = await writes.finish(now_ms, deps.job_expiry_ms, deps.retention_ms)
    if deps.arq_finished is not None:
        deps.arq_finished(writes.job_id)  # FINISH finished the arq job: the worker need not
    if next_job is not None and deps.handoff is not None:
        deps.handoff(next_job)  # the line's next event starts now, not at the next poll
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
