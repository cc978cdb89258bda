"""Graceful shutdown of real processes on SIGTERM: `expbridge serve` finishes the request in
flight and refuses new connections; `expbridge worker` finishes its running job within
EXPBRIDGE_WORKER__SHUTDOWN_WAIT_S and leaves the rest queued, or, when the wait runs out,
cancels the job and leaves it queued to run again. Nothing accepted is lost."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from expbridge.cli.redis_server import free_port
from expbridge.config.settings import Settings
from tests.cli.test_processes import base_env, spawn, wait_healthy
from tests.conftest import QUEUE, SANDBOX_KEY, SOURCE_TOKEN, Ingress
from tests.helpers import (
    add_fault,
    queued_jobs,
    run_worker_burst,
    sandbox_requests,
    seed_experiment,
    start_event,
)
from tests.scrape import scrape

STATUS = "/qonversion/v4/experiments/{}/status"


def worker_env(tmp_path: Path, redis_url: str, sandbox: Any, **extra: str) -> dict[str, str]:
    return base_env(
        tmp_path,
        EXPBRIDGE_REDIS_URL=redis_url,
        EXPBRIDGE_QUEUE_NAME=QUEUE,
        EXPBRIDGE_QONVERSION__SECRET_KEY=SANDBOX_KEY,
        EXPBRIDGE_QONVERSION__BASE_URL=f"{sandbox.url}/qonversion/v4",
        **extra,
    )


async def post(ingress: Ingress, experiment_id: str) -> str:
    response = await ingress.post_event(start_event(experiment_id))
    assert response.status == 202
    event_id: str = (await response.json())["id"]
    return event_id


async def wait_status(
    ingress: Ingress, event_id: str, status: str, process: Any, log: Path
) -> None:
    deadline = time.monotonic() + 15
    while (await ingress.get_record(event_id))["status"] != status:
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{event_id} never {status}: {log.read_text()}"
        await asyncio.sleep(0.02)


async def exit_code(process: subprocess.Popen[bytes], timeout_s: float = 15) -> int:
    """Wait without blocking the loop: the sandbox the worker calls runs in this loop."""
    return await asyncio.to_thread(process.wait, timeout_s)


async def sigterm_and_wait(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = await exit_code(process)
    return code, time.monotonic() - signalled


async def until(check: Callable[[], Awaitable[bool]], failure: str, timeout_s: float = 5) -> None:
    """Wait for the thing itself: poll `check` until it holds."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, failure
        await asyncio.sleep(0.01)


async def held_writes(redis: aioredis.Redis) -> bool:
    """A write is waiting out CLIENT PAUSE (Redis counts it as a blocked client)."""
    return int((await redis.info("clients"))["blocked_clients"]) > 0


async def refuses_connections(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as fresh, fresh.get(f"{url}/healthz"):
            return False
    except aiohttp.ClientConnectorError:
        return True


async def calls_made(sandbox_url: str, path: str) -> bool:
    return len(await sandbox_requests(sandbox_url, path)) > 0


def log_events(log: Path) -> list[str]:
    return [json.loads(x)["event"] for x in log.read_text().splitlines() if x.startswith("{")]


@pytest.mark.slow
async def test_serve_finishes_the_request_in_flight_and_refuses_new_ones(
    tmp_path: Path, redis_url: str
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = base_env(
        tmp_path,
        EXPBRIDGE_PORT=str(port),
        EXPBRIDGE_REDIS_URL=redis_url,
        EXPBRIDGE_SOURCES=json.dumps({"growth": {"token": SOURCE_TOKEN}}),
    )
    log = tmp_path / "serve.log"
    serve = spawn(["serve"], env, log)
    redis = aioredis.Redis.from_url(redis_url)
    try:
        await wait_healthy(url, serve, log)
        # Hold every Redis write for 1.5 s: the accept below stays in flight that long.
        await redis.execute_command("CLIENT", "PAUSE", "1500", "WRITE")
        async with aiohttp.ClientSession() as session:
            in_flight = asyncio.create_task(
                session.post(
                    f"{url}/v1/events",
                    json=start_event("exp_1"),
                    headers={"Authorization": f"Bearer {SOURCE_TOKEN}"},
                )
            )
            await until(lambda: held_writes(redis), "the accept never reached Redis")
            signalled = time.monotonic()
            serve.send_signal(signal.SIGTERM)
            await until(lambda: refuses_connections(url), "serve kept listening after SIGTERM")
            assert not in_flight.done()
            async with aiohttp.ClientSession() as fresh:  # a new connection
                with pytest.raises(aiohttp.ClientConnectorError):
                    await fresh.get(f"{url}/healthz")
            response = await in_flight
            assert response.status == 202, await response.text()
            event_id = (await response.json())["id"]
            answered_after_s = time.monotonic() - signalled
        assert await exit_code(serve) == 0, log.read_text()
        assert await redis.exists(f"expbridge:event:{event_id}")
    finally:
        if serve.poll() is None:
            serve.kill()
        await redis.aclose()
    assert 0.8 < answered_after_s < 5, answered_after_s
    assert "ingress stopped" in log_events(log)


@pytest.mark.slow
async def test_worker_finishes_its_running_job_and_leaves_the_rest_queued(
    tmp_path: Path, redis_url: str, sandbox: Any, ingress: Ingress, settings: Settings
) -> None:
    for experiment in ("exp_slow", "exp_a", "exp_b", "exp_c"):
        await seed_experiment(sandbox.url, experiment)
    await add_fault(sandbox.url, path_prefix=STATUS.format("exp_slow"), delay_s=1.5, count=1)
    metrics_port = free_port()
    env = worker_env(
        tmp_path,
        redis_url,
        sandbox,
        EXPBRIDGE_WORKER__SHUTDOWN_WAIT_S="8",
        EXPBRIDGE_WORKER__MAX_JOBS="1",
        EXPBRIDGE_WORKER__METRICS_PORT=str(metrics_port),
    )
    log = tmp_path / "worker.log"
    slow = await post(ingress, "exp_slow")
    worker = spawn(["worker"], env, log)
    try:
        await wait_status(ingress, slow, "running", worker, log)
        queued = [await post(ingress, e) for e in ("exp_a", "exp_b", "exp_c")]
        assert "expbridge_jobs_total" in await scrape(f"http://127.0.0.1:{metrics_port}/metrics")
        code, took_s = await sigterm_and_wait(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert code == 0, log.read_text()
    # The running job finished (its upstream call took 1.5 s), well within the 8 s wait.
    assert 0.5 < took_s < 8, took_s
    assert (await ingress.get_record(slow))["status"] == "succeeded"
    assert [(await ingress.get_record(e))["status"] for e in queued] == ["queued"] * 3
    assert await queued_jobs(settings) == 3
    assert len(await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/exp_")) == 1
    assert {"waiting for running jobs", "worker stopped"} <= set(log_events(log))

    await run_worker_burst(settings)  # a new worker takes over the queue
    assert [(await ingress.get_record(e))["status"] for e in queued] == ["succeeded"] * 3


@pytest.mark.slow
async def test_when_the_wait_runs_out_the_job_is_cancelled_and_runs_again(
    tmp_path: Path, redis_url: str, sandbox: Any, ingress: Ingress, settings: Settings
) -> None:
    await seed_experiment(sandbox.url, "exp_stuck")
    await add_fault(sandbox.url, path_prefix=STATUS.format("exp_stuck"), delay_s=4, count=1)
    env = worker_env(tmp_path, redis_url, sandbox, EXPBRIDGE_WORKER__SHUTDOWN_WAIT_S="0.5")
    log = tmp_path / "worker.log"
    event_id = await post(ingress, "exp_stuck")
    worker = spawn(["worker"], env, log)
    try:
        await wait_status(ingress, event_id, "running", worker, log)
        # The upstream call is under way (the sandbox logs a request when it arrives).
        await until(lambda: calls_made(sandbox.url, STATUS.format("exp_stuck")), "no upstream call")
        code, took_s = await sigterm_and_wait(worker)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert code == 0, log.read_text()
    assert 0.4 < took_s < 3, took_s  # the 0.5 s wait, not the 4 s upstream call
    assert "shutdown wait over; cancelled jobs stay queued" in log_events(log)
    # Cancelled mid-attempt: still in the queue, not marked in progress, so it runs again now.
    assert (await ingress.get_record(event_id))["status"] == "running"
    assert await queued_jobs(settings) == 1

    started = time.monotonic()
    await run_worker_burst(settings)
    record = await ingress.get_record(event_id)
    assert record["status"] == "succeeded", record
    assert record["attempts"] == 2
    assert time.monotonic() - started < 3  # picked up at once, not after arq's in-progress expiry
    calls = await sandbox_requests(sandbox.url, STATUS.format("exp_stuck"))
    assert len(calls) == 2 and len({c["idempotency_key"] for c in calls}) == 1  # one step key
