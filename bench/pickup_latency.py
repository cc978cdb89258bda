"""Worker pick-up latency at idle: from accept to the job starting, side by side with arq's default.

Starts a private redis-server, the sandbox and the real ingress, then for each poll delay posts
events one at a time with idle gaps and records, per event, the time from the queue script
writing the job to the worker starting it (arq's on_job_start). Prints median and p95 per
configuration and their ratio.

    .venv/bin/python bench/pickup_latency.py [--events 60]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from expbridge.cli.redis_server import RedisServer
from expbridge.config.loading import load_settings
from expbridge.config.logging import configure_logging
from expbridge.config.settings import Settings
from expbridge.sandbox.runner import start_sandbox
from expbridge.service.app import create_app
from expbridge.workers.worker import create_worker

TOKEN = "bench-token"


async def measure(settings: Settings, events: int) -> list[float]:
    latencies: list[float] = []
    started = asyncio.Event()

    async def on_job_start(ctx: dict[str, Any]) -> None:
        latencies.append((time.time() - ctx["enqueue_time"].timestamp()) * 1000)
        started.set()

    worker = create_worker(settings, on_job_start=on_job_start)
    worker_task = asyncio.create_task(worker.async_run())
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        await asyncio.sleep(0.5)
        for i in range(events):
            started.clear()
            event = {
                "type": "experiment.start",
                "data": {"target": {"provider": "qonversion", "experiment_id": f"exp_{i}"}},
            }
            async with session.post(f"http://127.0.0.1:{port}/v1/events", json=event) as r:
                assert r.status == 202, await r.text()
            await asyncio.wait_for(started.wait(), 5)
            await asyncio.sleep(random.uniform(0.05, 0.25))  # idle between events
    worker_task.cancel()
    await asyncio.gather(worker_task, return_exceptions=True)
    await worker.close()
    await runner.cleanup()
    return latencies


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


async def main(events: int) -> None:
    configure_logging("json", "ERROR")
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as redis_server:
        sandbox = await start_sandbox()
        results = {}
        for label, poll in (("expbridge default (0.02 s)", 0.02), ("arq default (0.5 s)", 0.5)):
            settings = load_settings(
                redis_url=redis_server.url,
                sources={"bench": {"token": TOKEN}},
                sandbox_url=sandbox.url,
                queue_name=f"bench:{poll}",
                log_level="WARNING",
                log_format="json",
                worker={"poll_delay_s": poll},
            )
            results[label] = summary(await measure(settings, events))
        await sandbox.close()
    for label, (median, p95) in results.items():
        print(f"{label:28s} median {median:7.1f} ms   p95 {p95:7.1f} ms")
    ours, baseline = results.values()
    print(f"ratio (arq default / expbridge) of medians: {baseline[0] / ours[0]:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=60)
    asyncio.run(main(parser.parse_args().events))
