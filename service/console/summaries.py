"""The console's summaries (counts by status, providers' error shares), kept per ingress process
for a few seconds.

Counting by status reads every stored record's status, and an error share reads the latest
1,000 records: tens of milliseconds on an idle machine, hundreds on a loaded one, and growing
with the records kept. So each is computed at most once per FRESH_S per process, whoever asks.
A value up to STALE_S old is answered if a newer one, computed meanwhile, is not ready within
WAIT_S (the page says "as of" when). Only the first page after start-up, or after a quiet
minute, waits for the whole computation. Nothing is written to Redis: the workers' cost per
event is unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from aiohttp import web

from expbridge.events.record import utcnow

log = structlog.get_logger("expbridge.console")
FRESH_S = 5.0
STALE_S = 60.0
# How long a page with a stale value waits for the newer one before it shows the stale one.
WAIT_S = 0.1
# Distinct keys kept (time ranges asked for): the least recently computed go first.
MAX_KEYS = 64


@dataclass(frozen=True)
class Summary:
    value: Any
    as_of: datetime
    at: float  # time.monotonic() when computed


class SummaryCache:
    def __init__(
        self,
        fresh_s: float = FRESH_S,
        stale_s: float = STALE_S,
        wait_s: float = WAIT_S,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.fresh_s = fresh_s
        self.stale_s = stale_s
        self.wait_s = wait_s
        self.max_keys = max_keys
        self.kept: OrderedDict[Hashable, Summary] = OrderedDict()
        self.computing: dict[Hashable, asyncio.Task[Summary]] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Summary:
        kept = self.kept.get(key)
        age = time.monotonic() - kept.at if kept is not None else float("inf")
        if kept is not None and age < self.fresh_s:
            return kept
        task = self.computing.get(key)
        if task is None:
            task = asyncio.create_task(self._compute(key, compute))
            task.add_done_callback(self._forget(key))
            self.computing[key] = task
        if kept is not None and age < self.stale_s:
            try:  # a newer value soon, or the stale one (the newer is on its way)
                return await asyncio.wait_for(asyncio.shield(task), self.wait_s)
            except TimeoutError:
                return kept
        # One computation for every page waiting for it; a page that goes away does not end it.
        return await asyncio.shield(task)

    async def _compute(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Summary:
        summary = Summary(await compute(), utcnow(), time.monotonic())
        self.kept[key] = summary
        self.kept.move_to_end(key)
        while len(self.kept) > self.max_keys:
            self.kept.popitem(last=False)
        return summary

    def _forget(self, key: Hashable) -> Callable[[asyncio.Task[Summary]], None]:
        def done(task: asyncio.Task[Summary]) -> None:
            self.computing.pop(key, None)
            if not task.cancelled() and task.exception() is not None:
                # Whoever waited got the error; a background refresh only logs it, and the
                # next page tries again.
                log.warning("console summary not computed", error=repr(task.exception()))

        return done

    async def close(self) -> None:
        tasks = list(self.computing.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


SUMMARIES: web.AppKey[SummaryCache] = web.AppKey("console_summaries", SummaryCache)


async def summaries_context(app: web.Application) -> AsyncIterator[None]:
    app[SUMMARIES] = SummaryCache()
    yield
    await app[SUMMARIES].close()
