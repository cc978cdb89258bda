"""Periodic repairs, run by every worker (any number at once: each repair is atomic or
idempotent), so neither a lost job nor a forgotten index entry outlives a sweep.

* A line whose head has no job — none in the arq queue and no worker holding one — gets its
  head dispatched again (redispatch.lua). Jobs get lost when arq fails one for good (its own
  job timeout under a stalled Redis), or a job met Redis errors at the moment it ended.
* The time indexes drop what retention let expire: dead letters older than the retention
  (their records expire with them), and entries of the event index whose records are gone.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.store.connection import REDIS_TROUBLE, describe_redis_error
from expbridge.events.store.queue import QueueScripts
from expbridge.workers.background import stop_loop

log = structlog.get_logger("expbridge.sweeper")
SCAN_COUNT = 500
# Index entries looked at per sweep; the next sweep goes on where this one stopped mattering.
MAX_TRIMMED = 20_000


class Sweeper:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.queue_name = settings.queue_name
        self.scripts = QueueScripts(redis, settings.queue_name)
        self.job_expiry_ms = settings.job_expiry_ms
        self.retention_ms = settings.event_retention_s * 1000
        self.interval_s = settings.worker.sweep_interval_s

    async def sweep(self) -> tuple[int, int]:
        """One pass: (lines given a job again, index entries removed)."""
        return await self.redispatch_lost_heads(), await self.trim_indexes()

    async def redispatch_lost_heads(self) -> int:
        """Every line: its head gets a job again if it has none; the events waiting in all
        lines are counted for expbridge_queue_depth."""
        redispatched = waiting = 0
        batch: list[str] = []
        async for line in self.redis.scan_iter(match=keys.ORDER_PATTERN, count=SCAN_COUNT):
            batch.append(line.decode())
            if len(batch) >= SCAN_COUNT:
                done, length = await self._redispatch(batch)
                redispatched, waiting, batch = redispatched + done, waiting + length, []
        if batch:
            done, length = await self._redispatch(batch)
            redispatched, waiting = redispatched + done, waiting + length
        await self.redis.set(keys.LINES_WAITING, waiting, ex=max(1, int(3 * self.interval_s)))
        return redispatched

    async def _redispatch(self, lines: list[str]) -> tuple[int, int]:
        script = self.scripts.redispatch
        now_ms = int(time.time() * 1000)
        args = script.args([now_ms, self.job_expiry_ms, keys.ARQ_IN_PROGRESS_PREFIX])
        for _ in range(2):  # a second time after Redis lost its script cache
            async with self.redis.pipeline(transaction=False) as pipe:
                for line in lines:
                    pipe.evalsha(script.sha, 2, line, self.queue_name, *args)
                    pipe.llen(line)
                results = await pipe.execute(raise_on_error=False)
            if not any(isinstance(r, NoScriptError) for r in results):
                break
            await self.redis.script_load(script.script)
        for result in results:
            if isinstance(result, Exception):
                raise result
        outcomes, lengths = results[0::2], results[1::2]
        for line, outcome in zip(lines, outcomes, strict=True):
            if outcome == 1:
                log.warning("line had no job: its head is dispatched again", line=line)
        return sum(1 for r in outcomes if r == 1), sum(int(n) for n in lengths)

    async def trim_indexes(self) -> int:
        cutoff = int(time.time() * 1000) - self.retention_ms
        # A dead letter's record expires one retention after its death, which is its score.
        removed = int(await self.redis.zremrangebyscore(keys.DEAD_INDEX, "-inf", cutoff))
        # The event index is scored at acceptance; a record lives until a retention after it
        # ended, so only entries whose record is gone go. Paged by the entries kept: removing
        # under an offset would skip others.
        kept = looked = 0
        while looked < MAX_TRIMMED:
            ids = await self.redis.zrangebyscore(
                keys.EVENT_INDEX, "-inf", cutoff, start=kept, num=SCAN_COUNT
            )
            if not ids:
                break
            looked += len(ids)
            async with self.redis.pipeline(transaction=False) as pipe:
                for event_id in ids:
                    pipe.exists(keys.event(event_id.decode()))
                alive = await pipe.execute()
            gone = [i for i, exists in zip(ids, alive, strict=True) if not exists]
            if gone:
                removed += int(await self.redis.zrem(keys.EVENT_INDEX, *gone))
            kept += len(ids) - len(gone)
        return removed

    async def run_forever(self) -> None:
        """Every `sweep_interval_s`, as long as the worker runs. The first comes one interval
        after start-up, not at once: a sweep walks every line, and workers started together
        (a roll-out, a restart after Redis came back) would all walk them together while
        taking their first jobs; what a sweep repairs waits one interval at most either way."""
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                lines, trimmed = await self.sweep()
                if lines or trimmed:
                    log.info("sweep", lines_redispatched=lines, index_entries_trimmed=trimmed)
            except REDIS_TROUBLE as error:
                log.info("sweep skipped: redis trouble", error=describe_redis_error(error))


def start_sweeping(redis: Redis, settings: Settings) -> asyncio.Task[None]:
    return asyncio.create_task(Sweeper(redis, settings).run_forever(), name="sweeper")


async def stop_sweeping(task: asyncio.Task[None] | None) -> None:
    await stop_loop(task)
