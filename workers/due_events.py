"""Each worker moves due scheduled events into their lines every EXPBRIDGE_WORKER__SCHEDULE_POLL_S
(one cheap ZRANGEBYSCORE when nothing is due). Several workers may poll at once: the promote
script claims each event, so it joins its line once."""

from __future__ import annotations

import asyncio

import structlog
from redis.exceptions import RedisError

from expbridge.config.settings import Settings
from expbridge.events.store.scheduled import DueEvents

log = structlog.get_logger("expbridge.worker")


async def promote_due_events(due: DueEvents, settings: Settings) -> None:
    """Runs until cancelled (worker shutdown); a Redis outage only delays it."""
    while True:
        try:
            moved = await due.promote()
        except (RedisError, OSError) as error:
            log.warning("scheduled events not promoted: redis unavailable", error=str(error))
        except Exception:  # our own bug: say so, and keep the schedule going
            log.exception("scheduled events not promoted")
        else:
            for event_id in moved:
                log.info("scheduled event due: queued", event_id=event_id)
        await asyncio.sleep(settings.worker.schedule_poll_s)


def start_promoting(due: DueEvents, settings: Settings) -> asyncio.Task[None]:
    return asyncio.create_task(promote_due_events(due, settings), name="promote_due_events")


async def stop_promoting(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
