"""The worker claims a job and reads it for arq's run_job in one script (lua/claim_job.lua):
run_job finds the job and its try number as arq's own pipeline would have read them, and no
longer sends that pipeline (workers/bridge_worker.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from arq import Retry
from arq.worker import func

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.store.connection import create_redis
from expbridge.workers.worker import create_worker

TRIES = 3


async def _exec_count(redis: Any) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_exec", {}).get("calls", 0))


async def test_run_job_takes_the_job_and_its_try_from_the_claim(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    seen: list[tuple[int, tuple[Any, ...]]] = []

    async def flaky(ctx: dict[str, Any], *args: Any) -> str:
        seen.append((ctx["job_try"], args))
        if ctx["job_try"] < TRIES:
            raise Retry(defer=0.01)
        return "done"

    redis = await create_redis(settings)
    try:
        await redis.delete(settings.queue_name)
        job = await redis.enqueue_job("flaky", "a", 2, _job_id="claim-test")
        assert job is not None
        exec_before = await _exec_count(redis)
        worker = create_worker(
            settings, burst=True, functions=[func(flaky, name="flaky", max_tries=TRIES)]
        )
        await worker.main()
        await worker.close()
        assert seen == [(try_number, ("a", 2)) for try_number in range(1, TRIES + 1)]
        assert (worker.jobs_complete, worker.jobs_retried, worker.jobs_failed) == (1, 2, 0)
        # One MULTI/EXEC per try: arq's finish_job; run_job's own read would be a second each.
        assert await _exec_count(redis) - exec_before == TRIES
        assert not await redis.exists(
            keys.arq_retry("claim-test"), keys.arq_in_progress("claim-test")
        )
    finally:
        await redis.aclose()


async def test_a_retried_job_counts_its_tries_on_arqs_counter(
    make_settings: Callable[..., Settings],
) -> None:
    """The claim increments arq's try counter and renews its TTL, as run_job did."""
    settings = make_settings()
    seen: list[int] = []

    async def once_more(ctx: dict[str, Any]) -> None:
        seen.append(ctx["job_try"])
        ttl = await ctx["redis"].ttl(keys.arq_retry("claim-ttl"))
        assert 88000 < ttl <= 88400
        if ctx["job_try"] == 1:
            raise Retry(defer=0.01)

    redis = await create_redis(settings)
    try:
        await redis.delete(settings.queue_name)
        await redis.enqueue_job("once_more", _job_id="claim-ttl")
        worker = create_worker(settings, burst=True, functions=[func(once_more, name="once_more")])
        await worker.main()
        await worker.close()
        assert seen == [1, 2]
        assert worker.jobs_failed == 0
    finally:
        await redis.aclose()
