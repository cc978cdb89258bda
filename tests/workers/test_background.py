"""A background loop that swallows a cancel (as redis-py can mid-command) still stops."""

from __future__ import annotations

import asyncio

from expbridge.workers.background import stop_loop


async def test_a_loop_that_swallows_a_cancel_is_stopped() -> None:
    swallowed = 0

    async def loop() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed == 0:  # the first cancel is lost inside a "command"
                    swallowed += 1
                    continue
                raise

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    await asyncio.wait_for(stop_loop(task), 5)
    assert task.cancelled() and swallowed == 1
    await stop_loop(None)  # nothing to stop
