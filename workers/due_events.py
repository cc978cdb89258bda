"""Each worker, every EXPBRIDGE_WORKER__SCHEDULE_POLL_S, moves due scheduled events into their
lines and expires Slack approvals past their deadline (one cheap read each when nothing is
due). Several workers may poll at once: the scripts claim each event and decide each approval
once, so only the worker that expired a request tells Slack."""

from __future__ import annotations

import asyncio

import structlog
from redis.exceptions import RedisError

from expbridge.events.store.approvals import ApprovalBook
from expbridge.events.store.scheduled import DueEvents
from expbridge.workers.background import stop_loop
from expbridge.workers.deps import JobDeps

log = structlog.get_logger("expbridge.worker")
BRIDGE = "bridge"  # who decides an approval nobody decided in time


async def expire_overdue_approvals(deps: JobDeps, approvals: ApprovalBook) -> None:
    for approval in await approvals.overdue():
        decision = await approvals.decide(approval, "expired", BRIDGE)
        if not decision.decided_now or approval.event.reply_to is None:
            continue
        log.info("slack approval expired", approval=approval.id, event_id=approval.event.id)
        message = approval.decided_message("expired", None)
        # The command's response_url, where the request was shown (Slack keeps it 30 minutes);
        # else the notify webhook, so the channel hears of it all the same.
        if not await deps.notifier.post(approval.event.reply_to, message, "approval"):
            webhook = deps.settings.slack.notify_webhook_url
            if webhook:
                await deps.notifier.post(webhook, {"text": message["text"]}, "approval")


async def promote_due_events(deps: JobDeps) -> None:
    """Runs until cancelled (worker shutdown); a Redis outage only delays it."""
    due = DueEvents(deps.redis, deps.settings, deps.callbacks)
    approvals = ApprovalBook(deps.redis, deps.settings, deps.acceptor)
    while True:
        try:
            for event_id in await due.promote():
                log.info("scheduled event due: queued", event_id=event_id)
            await expire_overdue_approvals(deps, approvals)
        except (RedisError, OSError) as error:
            log.warning("due events not handled: redis unavailable", error=str(error))
        except Exception:  # our own bug: say so, and keep the schedule going
            log.exception("due events not handled")
        await asyncio.sleep(deps.settings.worker.schedule_poll_s)


def start_promoting(deps: JobDeps) -> asyncio.Task[None]:
    return asyncio.create_task(promote_due_events(deps), name="promote_due_events")


async def stop_promoting(task: asyncio.Task[None] | None) -> None:
    await stop_loop(task)
