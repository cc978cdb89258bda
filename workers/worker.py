"""The arq worker: settings reach jobs through ctx; on_startup opens what jobs share."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import structlog
from arq import Worker, cron
from arq.connections import ArqRedis
from arq.worker import func

from expbridge.config.file import FileConfig
from expbridge.config.loading import load_config
from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.callbacks import Callbacks
from expbridge.events.rules.evaluation_log import RuleLog
from expbridge.events.store.acceptor import Acceptor
from expbridge.events.store.connection import bound_socket_waits, create_redis, redis_settings
from expbridge.events.store.queue import (
    JOB_FUNCTION,
    QueueScripts,
    job_deserializer,
    job_serializer,
)
from expbridge.events.store.records import EventStore
from expbridge.workers.bridge_worker import ARQ_FINISHED, HANDOFF, PREFETCHED, BridgeWorker
from expbridge.workers.clients import build_clients
from expbridge.workers.deps import DEPS, JobDeps
from expbridge.workers.due_events import start_promoting, stop_promoting
from expbridge.workers.job_writes import JobScripts
from expbridge.workers.jobs import process_event
from expbridge.workers.metrics import WorkerMetrics
from expbridge.workers.metrics_server import start_metrics_server
from expbridge.workers.notify import Notifier
from expbridge.workers.pacing import ProviderGate
from expbridge.workers.retry import RetryPolicy
from expbridge.workers.rules.book import RuleBook, compile_rules
from expbridge.workers.rules.schedule import rules_tick
from expbridge.workers.sweeper import start_sweeping, stop_sweeping

# Our own policy decides when an event gives up; arq must never stop a schedule first.
UNLIMITED_TRIES = 1_000_000_000
METRICS_SERVER = "expbridge_metrics_server"
DUE_EVENTS_TASK = "expbridge_due_events"
SWEEPER_TASK = "expbridge_sweeper"
# One pass over the schedule rules reads two things per target; more than one event's budget.
SCHEDULE_TIMEOUT_S = 300


def build_deps(
    settings: Settings,
    redis: ArqRedis,
    session: aiohttp.ClientSession,
    rules: RuleBook,
    metrics: WorkerMetrics | None = None,
) -> JobDeps:
    metrics = metrics or WorkerMetrics()
    acceptor = Acceptor(redis, settings)
    scripts = QueueScripts(redis, settings.queue_name)
    gate = ProviderGate(
        redis,
        settings.pace,
        lease_s=settings.worker.upstream_timeout_s + 5,
        floor_429_s=settings.retry.rate_limited_floor_s,
        cap_429_s=settings.retry.max_delay_s,
    )
    return JobDeps(
        settings=settings,
        redis=redis,
        store=EventStore(redis),
        scripts=scripts,
        clients=build_clients(
            settings,
            session,
            observer=metrics.upstream_request,
            callback_observer=metrics.callback_attempt,
        ),
        policy=RetryPolicy(settings.retry),
        gate=gate,
        job_scripts=JobScripts(redis, scripts, gate),
        session=session,
        metrics=metrics,
        rules=rules,
        acceptor=acceptor,
        rule_log=RuleLog(redis, settings.rules.evaluations_kept),
        notifier=Notifier(session, settings.slack),
        callbacks=Callbacks(acceptor, settings.sources),
    )


async def close_deps(deps: JobDeps) -> None:
    await deps.notifier.drain()  # chat posts under way (each with a short timeout)
    await deps.acceptor.close()
    await deps.clients.callbacks.close()
    await deps.session.close()


@contextlib.asynccontextmanager
async def worker_deps(
    settings: Settings, file_config: FileConfig | None = None
) -> AsyncIterator[JobDeps]:
    """What a worker's jobs get, outside a worker: for one-off runs such as evaluating the
    schedule rules once (tests, operators)."""
    rules = compile_rules(file_config or load_config(settings), settings)
    redis = await create_redis(settings)
    deps = build_deps(settings, redis, aiohttp.ClientSession(), rules)
    try:
        yield deps
    finally:
        await close_deps(deps)
        await redis.aclose()


def _on_startup(
    settings: Settings,
    rules: RuleBook,
    after_startup: Callable[[], None] | None,
    *,
    sweep: bool,
) -> Any:
    async def on_startup(ctx: dict[str, Any]) -> None:
        # arq's pool has only a connect timeout: a frozen Redis must not hang a job for ever.
        bound_socket_waits(ctx["redis"], settings.redis_socket_timeout_s)
        metrics = WorkerMetrics()
        ctx[DEPS] = build_deps(settings, ctx["redis"], aiohttp.ClientSession(), rules, metrics)
        ctx[DEPS].handoff = ctx.get(HANDOFF)  # BridgeWorker's: a line's next job starts at once
        ctx[DEPS].prefetched = ctx.get(PREFETCHED)  # and the records read with the claims
        ctx[DEPS].arq_finished = ctx.get(ARQ_FINISHED)
        ctx[METRICS_SERVER] = await start_metrics_server(metrics.registry, settings)
        ctx[DUE_EVENTS_TASK] = start_promoting(ctx[DEPS])
        if sweep:
            ctx[SWEEPER_TASK] = start_sweeping(ctx["redis"], settings)
        if after_startup is not None:
            after_startup()

    return on_startup


async def _on_shutdown(ctx: dict[str, Any]) -> None:
    """Idempotent: the worker runner (cli/worker_runner.py) may call it after a close() that
    Redis trouble cut short."""
    await stop_promoting(ctx.pop(DUE_EVENTS_TASK, None))
    await stop_sweeping(ctx.pop(SWEEPER_TASK, None))
    deps: JobDeps | None = ctx.pop(DEPS, None)
    if deps is not None:
        await close_deps(deps)
    metrics_server = ctx.pop(METRICS_SERVER, None)
    if metrics_server is not None:
        await metrics_server.cleanup()


async def _on_job_start(ctx: dict[str, Any]) -> None:
    # Runs inside arq's task for this job, so the binding covers arq's own lines for it too.
    structlog.contextvars.clear_contextvars()
    event_id = keys.event_of_job(str(ctx["job_id"]))
    if event_id is not None:  # cron jobs are not an event's
        structlog.contextvars.bind_contextvars(event_id=event_id)
    structlog.contextvars.bind_contextvars(job_try=ctx["job_try"])


def health_check_key(settings: Settings) -> str:
    return keys.worker_health_check(settings.queue_name, socket.gethostname())


def create_worker(
    settings: Settings,
    *,
    burst: bool = False,
    file_config: FileConfig | None = None,
    after_startup: Callable[[], None] | None = None,
    **overrides: Any,
) -> Worker:
    """`file_config`: the YAML file's content (default: read from EXPBRIDGE_CONFIG). Its rules
    are checked here, so a bad rule stops start-up with a ConfigError. `after_startup` runs
    once the jobs' dependencies are open (the CLI freezes the heap there)."""
    w = settings.worker
    rules = compile_rules(file_config or load_config(settings), settings)
    # Schedule rules: a tick at start-up and every minute; each rule runs when its interval is
    # due (a Redis key, so restarts and several workers do not run it more often). Not in
    # burst mode (tests), where a tick at a minute boundary would make runs differ.
    tick = cron(
        rules_tick, name="rules_tick", second=0, run_at_startup=True, timeout=SCHEDULE_TIMEOUT_S
    )
    cron_jobs = [tick] if rules.scheduled and not burst else []
    options: dict[str, Any] = {
        "functions": [func(process_event, name=JOB_FUNCTION, max_tries=UNLIMITED_TRIES)],
        "cron_jobs": cron_jobs,
        "redis_settings": redis_settings(settings),
        "queue_name": settings.queue_name,
        # No sweeper in burst mode either (tests): it would repair what a test sets up.
        "on_startup": _on_startup(settings, rules, after_startup, sweep=not burst),
        "on_shutdown": _on_shutdown,
        "on_job_start": _on_job_start,
        "poll_delay": w.poll_delay_s,
        "max_jobs": w.max_jobs,
        "job_timeout": w.job_timeout_s,
        "keep_result": 0,
        "max_tries": UNLIMITED_TRIES,
        "health_check_interval": w.health_check_interval_s,
        "health_check_key": health_check_key(settings),
        "job_serializer": job_serializer,
        "job_deserializer": job_deserializer,
        "burst": burst,
        "handle_signals": False,
    }
    options.update(overrides)
    return BridgeWorker(settings=settings, **options)
