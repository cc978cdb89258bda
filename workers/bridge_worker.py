"""arq's Worker with two changes: its Redis pool packs commands with hiredis (ours, from
events/store/connection.py), and a job whose FINISH dispatched the next event of its line
hands that job to this worker at once instead of leaving it for the next poll — so one line
runs event after event without a poll period between them (bench/worker_throughput.py).

The hand-over goes through arq's own `start_jobs`: the in-progress key, the job's try count
and its timeout are arq's as for a polled job, so a worker killed with the job running leaves
it to be picked up again like any other. Another worker polling at the same moment may take
it instead; arq's in-progress check lets only one of them run it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from arq import Worker

from expbridge.config.settings import Settings
from expbridge.events.store.connection import create_redis

# Where jobs find the hand-over in arq's ctx (workers/jobs.py).
HANDOFF = "expbridge_handoff"
# How long close() lets hand-overs under way start their jobs; one still waiting then (for a
# job place or a Redis connection) is cancelled: its job is picked up again like any other.
HANDOFF_CLOSE_S = 5.0


class BridgeWorker(Worker):
    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._settings = settings
        self._handoffs: set[asyncio.Task[None]] = set()
        self._closing = False
        self.ctx[HANDOFF] = self.take_next

    async def main(self) -> None:
        if self._pool is None:
            self._pool = await create_redis(self._settings)
            self._pool.expires_extra_ms = self.expires_extra_ms
        await super().main()

    def take_next(self, job_id: str) -> None:
        """Start `job_id` now (when this worker still picks jobs); it waits for a free job
        place like a polled job. Not in burst mode, whose end is decided by its polls."""
        if self.burst or not self.allow_pick_jobs or self._closing:
            return
        main_task = getattr(self, "main_task", None)
        if main_task is not None and main_task.done():  # stopped polling: no new jobs either
            return
        task = asyncio.get_running_loop().create_task(self.start_jobs([job_id.encode()]))
        self._handoffs.add(task)
        task.add_done_callback(self._handoffs.discard)

    async def close(self) -> None:
        # A hand-over under way ends like a poll under way: its job starts, and close waits —
        # for a bounded time, so a stopped worker cannot hang on one that waits for ever.
        self._closing = True
        if self._handoffs:
            _, pending = await asyncio.wait(set(self._handoffs), timeout=HANDOFF_CLOSE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await super().close()
