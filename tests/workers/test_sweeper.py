"""The sweeper every worker runs: a line whose head lost its job gets one again, the events
waiting in lines are counted for expbridge_queue_depth, and retention leaves nothing behind
in the indexes (findings 1, 12 and 19 of issue 10)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.store.connection import create_redis
from expbridge.workers.sweeper import Sweeper
from tests.conftest import ADMIN_TOKEN, Ingress, running_ingress
from tests.helpers import accept_event, run_worker_burst, seed_experiment, start_event
from tests.scrape import sample, scrape


async def sweep(settings: Settings) -> tuple[int, int]:
    redis = await create_redis(settings)
    try:
        return await Sweeper(redis, settings).sweep()
    finally:
        await redis.aclose()


async def test_a_head_whose_job_was_lost_gets_one_again(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_lost")
    first = await accept_event(ingress, start_event("exp_lost"))
    second = await accept_event(ingress, {**start_event("exp_lost"), "type": "experiment.pause"})
    # What arq does to a job it fails for good: its key and queue entry are gone.
    client = aioredis.Redis.from_url(settings.redis_url or "")
    job_id = keys.job_id(first, 1)
    await client.delete(keys.arq_job(job_id))
    await client.zrem(settings.queue_name, job_id)
    await client.aclose()
    await run_worker_burst(settings)
    assert (await ingress.get_record(first))["status"] == "queued"  # jammed, without a sweep

    assert await sweep(settings) == (1, 0)
    assert await sweep(settings) == (0, 0)  # a head with a job is left alone
    await run_worker_burst(settings)
    assert (await ingress.get_record(first))["status"] == "succeeded"
    assert (await ingress.get_record(second))["status"] == "succeeded"


async def test_queue_depth_counts_the_events_behind_the_heads(
    ingress: Ingress, settings: Settings
) -> None:
    for _ in range(3):
        await accept_event(ingress, start_event("exp_depth"))
    await accept_event(ingress, start_event("exp_other"))
    await sweep(settings)
    text = await scrape(ingress.url("/metrics"))
    assert sample(text, "expbridge_queue_depth") == 4  # 2 jobs, 4 events waiting


async def test_expired_events_leave_nothing_behind(
    make_settings: Callable[..., Settings], sandbox: Any
) -> None:
    settings = make_settings(event_retention_s=1)
    await seed_experiment(sandbox.url, "exp_ret")
    async with running_ingress(settings) as ingress:
        ids = [await accept_event(ingress, start_event("exp_ret")) for _ in range(3)]
        ids.append(await accept_event(ingress, start_event("exp_missing")))  # ends dead
        await run_worker_burst(settings)
        statuses = [(await ingress.get_record(i, token=ADMIN_TOKEN))["status"] for i in ids]
        assert sorted(statuses) == ["dead", "succeeded", "succeeded", "succeeded"]
    await asyncio.sleep(2.2)
    assert (await sweep(settings))[1] == 5  # 4 in the event index, 1 dead letter

    client = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        left = {}
        async for key in client.scan_iter(count=1000):
            left[key.decode()] = await client.ttl(key)
    finally:
        await client.aclose()
    # Nothing of an event is kept without an end: whatever remains expires by itself
    # (idempotency entries, the sweep's count, pacing state) or is one fixed key per process.
    unbounded = {
        key
        for key, ttl in left.items()
        if ttl == -1 and not key.startswith(("expbridge:pace:", settings.queue_name))
    }
    assert not unbounded, unbounded
    assert not any(i in key for i in ids for key in left), left


async def test_listing_prunes_every_expired_entry_without_skipping(
    ingress: Ingress, settings: Settings
) -> None:
    """Finding 19: 1,000 index entries whose records expired, one live event: one listing
    removes all 1,000 (pruning while paging by offset used to skip some)."""
    live = await accept_event(ingress, start_event("exp_live"))
    client = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        await client.zadd(keys.EVENT_INDEX, {f"evt_gone{n:04d}": n for n in range(1000)})
        async with ingress.session.get(
            ingress.url("/v1/events?limit=50"), headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ) as response:
            assert response.status == 200
            assert [r["id"] for r in (await response.json())["data"]] == [live]
        assert await client.zcard(keys.EVENT_INDEX) == 1
    finally:
        await client.aclose()
