"""Stopping a worker's background loops (the sweeper, the due-events promoter).

A cancel that arrives while a loop is inside a Redis command can be swallowed by redis-py's
connection handling; the loop then sleeps and runs on, and a shutdown that waited for it would
hang for ever. So the cancel is repeated until the task has ended.
"""

from __future__ import annotations

import asyncio

# How often a loop that swallowed a cancel is cancelled again.
RECANCEL_S = 0.5


async def stop_loop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_S)
    if not task.cancelled():
        task.exception()  # retrieved: a loop's own error was logged where it happened
