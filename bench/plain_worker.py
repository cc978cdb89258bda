"""The baseline of the worker benchmark: a hand-written arq worker whose job makes the same one
upstream POST as an `experiment.start` (with an Idempotency-Key), in its own process, with
arq's defaults except the poll delay and job concurrency, which match expbridge's.

    python -m bench.plain_worker REDIS_URL QUEUE UPSTREAM_URL
"""

from __future__ import annotations

import logging.config
import sys
from typing import Any

import aiohttp
from arq import Worker, func
from arq.connections import RedisSettings
from arq.logs import default_log_config

from expbridge.cli import event_loop


def make_worker(redis_url: str, queue: str, upstream: str) -> Worker:
    async def startup(ctx: dict[str, Any]) -> None:
        ctx["session"] = aiohttp.ClientSession()

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["session"].close()

    async def post_status(ctx: dict[str, Any], experiment_id: str) -> dict[str, Any]:
        url = f"{upstream}/experiments/{experiment_id}/status"
        headers = {"Idempotency-Key": f"{ctx['job_id']}.start"}
        async with ctx["session"].post(url, json={"status": "active"}, headers=headers) as r:
            r.raise_for_status()
            answer: dict[str, Any] = await r.json()
            return answer

    return Worker(
        functions=[func(post_status, name="post_status")],
        redis_settings=RedisSettings.from_dsn(redis_url),
        queue_name=queue,
        on_startup=startup,
        on_shutdown=shutdown,
        poll_delay=0.02,
        max_jobs=20,
    )


async def run(redis_url: str, queue: str, upstream: str) -> None:
    await make_worker(redis_url, queue, upstream).async_run()  # arq binds the running loop


if __name__ == "__main__":
    logging.config.dictConfig(default_log_config(verbose=False))
    event_loop.run(run(*sys.argv[1:4]))
