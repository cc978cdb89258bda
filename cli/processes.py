"""Long-running roles: ingress, worker, or both with an embedded Redis and the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import structlog
from yarl import URL

from expbridge.cli.event_loop import freeze_heap
from expbridge.cli.worker_runner import WorkerRunner, stop_runner
from expbridge.config.file import FileConfig
from expbridge.config.settings import Settings
from expbridge.config.sources import SourceCredentials
from expbridge.service.app import create_app
from expbridge.service.http_server import listening

log = structlog.get_logger("expbridge.cli")
LOCAL_SOURCE = "local"
# On SIGTERM the ingress stops listening, then gives requests in flight this long (an accept
# takes milliseconds; this fits Kubernetes' default 30 s grace after the chart's preStop sleep).
INGRESS_DRAIN_S = 15.0
DEMO_EXPERIMENT = {
    "id": "exp_demo",
    "name": "Demo paywall test",
    "alias_id": "demo_paywall",
    "status": "draft",
}


def local_token(data_dir: Path) -> str:
    """A token for the `local` source of a zero-config run, kept so `expbridge send` finds it."""
    path = data_dir / "local-token"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    token = "local_" + secrets.token_urlsafe(24)
    path.write_text(token)
    path.chmod(0o600)
    return token


def with_local_source(settings: Settings) -> Settings:
    if settings.sources:
        return settings
    token = local_token(settings.data_dir)
    source = SourceCredentials.model_validate({"token": token})
    return settings.model_copy(update={"sources": {LOCAL_SOURCE: source}})


async def _wait_for_stop(*watched: asyncio.Task[None]) -> None:
    """Until SIGINT or SIGTERM, or until a watched task (the worker) ends by itself."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    signalled = asyncio.create_task(stop.wait())
    await asyncio.wait([signalled, *watched], return_when=asyncio.FIRST_COMPLETED)
    if signalled.done():
        log.info("stopping")
    else:
        signalled.cancel()
        log.error("the worker stopped by itself; shutting down")


@contextlib.asynccontextmanager
async def ingress(settings: Settings, file_config: FileConfig) -> AsyncIterator[str]:
    app = create_app(settings, file_config)
    # Stops accepting first, then lets requests in flight finish, then closes Redis.
    async with listening(
        app, settings.http, settings.host, settings.port, shutdown_timeout=INGRESS_DRAIN_S
    ) as url:
        freeze_heap()
        log.info("ingress listening", url=url)
        yield url
    log.info("ingress stopped")


@contextlib.asynccontextmanager
async def worker(settings: Settings) -> AsyncIterator[asyncio.Task[None]]:
    """The worker role: started again by itself after Redis trouble (cli/worker_runner.py)."""
    runner = WorkerRunner(settings, after_startup=freeze_heap)
    task = asyncio.create_task(runner.run())
    log.info("worker started", queue=settings.queue_name)
    try:
        yield task
    finally:
        await stop_runner(runner, task, settings.worker.shutdown_wait_s)


async def serve_forever(settings: Settings, file_config: FileConfig) -> None:
    async with ingress(settings, file_config):
        await _wait_for_stop()


async def work_forever(settings: Settings) -> None:
    async with worker(settings) as task:
        await _wait_for_stop(task)


async def seed_demo_experiment(sandbox_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        body = {"qonversion": {"experiments": [DEMO_EXPERIMENT]}}
        async with session.post(f"{sandbox_url}/_sandbox/seed", json=body) as response:
            response.raise_for_status()


@contextlib.asynccontextmanager
async def demo_sandbox(host: str, port: int, *, allow_remote: bool = False) -> AsyncIterator[str]:
    """The sandbox providers with the demo experiment the README's examples use, seeded the
    same for `run` and for `sandbox`."""
    from expbridge.sandbox.runner import start_sandbox

    server = await start_sandbox(host=host, port=port, allow_remote=allow_remote)
    try:
        await seed_demo_experiment(server.url)
        log.info("sandbox providers running", url=server.url, demo_experiment="exp_demo")
        yield server.url
    finally:
        await server.close()


async def sandbox_forever(host: str, port: int, allow_remote: bool) -> None:
    async with demo_sandbox(host, port, allow_remote=allow_remote):
        await _wait_for_stop()


async def run_all(settings: Settings, file_config: FileConfig) -> None:
    """Everything in one process: sandbox (when a provider has no credentials), ingress, worker."""
    async with contextlib.AsyncExitStack() as stack:
        if settings.qonversion_is_sandbox or settings.convert_is_sandbox:
            url = URL(settings.sandbox_url)
            await stack.enter_async_context(demo_sandbox(url.host or "127.0.0.1", url.port or 8090))
        await stack.enter_async_context(ingress(settings, file_config))
        worker_task = await stack.enter_async_context(worker(settings))
        await _wait_for_stop(worker_task)
