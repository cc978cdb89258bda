"""Worker metrics, scraped over HTTP from a running worker's own metrics server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from expbridge.cli.redis_server import free_port
from expbridge.cli.worker_runner import stop_worker
from expbridge.config.settings import Settings
from expbridge.workers.deps import DEPS
from expbridge.workers.metrics import WorkerMetrics
from expbridge.workers.metrics_server import start_metrics_server
from expbridge.workers.worker import create_worker
from tests.conftest import Ingress
from tests.helpers import add_fault, seed_experiment, start_event
from tests.scrape import sample, scrape

STATUS = "/qonversion/v4/experiments/{}/status"
START = {"type": "experiment.start", "provider": "qonversion"}


async def wait_terminal(ingress: Ingress, event_ids: list[str], timeout_s: float = 10) -> None:
    async with asyncio.timeout(timeout_s):
        while True:
            records = [await ingress.get_record(event_id) for event_id in event_ids]
            if all(r["status"] in ("succeeded", "dead") for r in records):
                return
            await asyncio.sleep(0.05)


async def test_jobs_retries_dead_letters_and_upstream_requests(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    for experiment in ("exp_ok", "exp_flaky", "exp_gone"):
        await seed_experiment(sandbox.url, experiment)
    await add_fault(sandbox.url, path_prefix=STATUS.format("exp_flaky"), status=503, count=1)
    await add_fault(sandbox.url, path_prefix=STATUS.format("exp_gone"), status=404)
    event_ids = []
    for experiment in ("exp_ok", "exp_flaky", "exp_gone"):
        response = await ingress.post_event(start_event(experiment))
        event_ids.append((await response.json())["id"])

    port = free_port()
    settings = settings.model_copy(
        update={"worker": settings.worker.model_copy(update={"metrics_port": port})}
    )
    worker = create_worker(settings)
    running = asyncio.create_task(worker.async_run())
    try:
        await wait_terminal(ingress, event_ids)
        text = await scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        await stop_worker(worker, running, wait_s=0)

    assert sample(text, "expbridge_jobs_total", **START, outcome="succeeded") == 2
    assert sample(text, "expbridge_jobs_total", **START, outcome="retrying") == 1
    assert sample(text, "expbridge_jobs_total", **START, outcome="dead") == 1
    assert sample(text, "expbridge_retries_total", **START) == 1
    dead = sample(text, "expbridge_dead_letters_total", **START, reason="PermanentUpstreamError")
    assert dead == 1
    ttt = "expbridge_event_time_to_terminal_seconds_count"
    assert sample(text, ttt, **START, status="succeeded") == 2
    assert sample(text, ttt, **START, status="dead") == 1
    upstream = {"provider": "qonversion", "operation": "set_status"}
    assert sample(text, "expbridge_upstream_requests_total", **upstream, status_class="2xx") == 2
    assert sample(text, "expbridge_upstream_requests_total", **upstream, status_class="5xx") == 1
    assert sample(text, "expbridge_upstream_requests_total", **upstream, status_class="4xx") == 1
    duration = "expbridge_upstream_request_duration_seconds_count"
    assert sample(text, duration, **upstream, status_class="2xx") == 2

    # Stopped with the worker.
    with pytest.raises(aiohttp.ClientConnectionError):
        await scrape(f"http://127.0.0.1:{port}/metrics")


async def test_connection_errors_count_as_error_class(
    ingress: Ingress, make_settings: Any, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_drop")
    await add_fault(sandbox.url, path_prefix=STATUS.format("exp_drop"), drop=True, count=1)
    assert (await ingress.post_event(start_event("exp_drop"))).status == 202
    settings = make_settings()
    worker = create_worker(settings, burst=True)
    try:
        await asyncio.wait_for(worker.async_run(), 20)
        registry = worker.ctx[DEPS].metrics.registry
    finally:
        await worker.close()
    labels = {"provider": "qonversion", "operation": "set_status"}
    errors = registry.get_sample_value(
        "expbridge_upstream_requests_total", {**labels, "status_class": "error"}
    )
    assert errors == 1


async def test_the_worker_metrics_server_honours_the_metrics_token(
    make_settings: Callable[..., Settings],
) -> None:
    port = free_port()
    settings = make_settings(metrics_token="metrics_0123456789", worker={"metrics_port": port})
    metrics = WorkerMetrics()
    server = await start_metrics_server(metrics.registry, settings)
    assert server is not None
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as response:
                assert response.status == 401
                assert response.headers["Content-Type"] == "application/problem+json"
                assert (await response.json(content_type=None))["status"] == 401
            headers = {"Authorization": "Bearer metrics_0123456789"}
            async with session.get(url, headers=headers) as response:
                assert response.status == 200
                assert "expbridge_upstream_requests_total" in await response.text()
    finally:
        await server.cleanup()


async def test_port_0_means_no_metrics_server(settings: Settings) -> None:
    assert settings.worker.metrics_port == 0
    assert await start_metrics_server(WorkerMetrics().registry, settings) is None
