"""The arq worker: settings reach jobs through ctx; on_startup opens what jobs share."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import structlog
from arq import Worker
from arq.worker import func

from config.settings import Settings
from events.connection import redis_settings
from events.queue import JOB_FUNCTION, QueueScripts, job_deserializer, job_serializer
from events.store import EventStore
from workers.clients import build_clients
from workers.deps import DEPS, JobDeps
from workers.gate import ProviderGate
from workers.jobs import process_event
from workers.metrics import WorkerMetrics
from workers.metrics_server import start_metrics_server
from workers.retry import RetryPolicy

# Our own policy decides when an event gives up; arq must never stop a schedule first.
UNLIMITED_TRIES = 1_000_000_000
METRICS_SERVER = "expbridge_metrics_server"


def _on_startup(settings: Settings) -> Any:
    async def on_startup(ctx: dict[str, Any]) -> None:
        session = aiohttp.ClientSession()
        redis = ctx["redis"]
        metrics = WorkerMetrics()
        ctx[DEPS] = JobDeps(
            settings=settings,
            redis=redis,
            store=EventStore(redis),
            scripts=QueueScripts(redis, settings.queue_name),
            clients=build_clients(settings, session, observer=metrics.upstream_request),
            policy=RetryPolicy(settings.retry),
            gate=ProviderGate(
                redis,
                settings.pace,
                lease_s=settings.worker.upstream_timeout_s + 5,
                floor_429_s=settings.retry.rate_limited_floor_s,
                cap_429_s=settings.retry.max_delay_s,
            ),
            session=session,
            metrics=metrics,
        )
        ctx[METRICS_SERVER] = await start_metrics_server(metrics.registry, settings)

    return on_startup


async def _on_shutdown(ctx: dict[str, Any]) -> None:
    deps: JobDeps | None = ctx.get(DEPS)
    if deps is not None:
        await deps.session.close()
    metrics_server = ctx.get(METRICS_SERVER)
    if metrics_server is not None:
        await metrics_server.cleanup()


async def _on_job_start(ctx: dict[str, Any]) -> None:
    # Runs inside arq's task for this job, so the binding covers arq's own lines for it too.
    structlog.contextvars.clear_contextvars()
    event_id = str(ctx["job_id"]).rpartition(".")[0]
    structlog.contextvars.bind_contextvars(event_id=event_id, job_try=ctx["job_try"])


def health_check_key(settings: Settings) -> str:
    """One key per host (a pod), so `worker --check` speaks for this worker, not any worker."""
    return f"{settings.queue_name}:health-check:{socket.gethostname()}"


def create_worker(settings: Settings, *, burst: bool = False, **overrides: Any) -> Worker:
    w = settings.worker
    options: dict[str, Any] = {
        "functions": [func(process_event, name=JOB_FUNCTION, max_tries=UNLIMITED_TRIES)],
        "redis_settings": redis_settings(settings),
        "queue_name": settings.queue_name,
        "on_startup": _on_startup(settings),
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
    return Worker(**options)
