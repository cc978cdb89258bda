"""What each `/exp` command does once the request is verified and permitted: queue (or
schedule) start/pause/stop, list `status` and `scheduled`, `cancel` an event. Each answers
with the ephemeral message Slack shows the user."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import structlog
from aiohttp import web

from expbridge.config import spans
from expbridge.events import keys as redis_keys
from expbridge.events.envelope import EventEnvelope
from expbridge.events.record import Cause, EventRecord, utcnow
from expbridge.events.schedule import FORMS, check_ahead, parse_duration, parse_moment
from expbridge.events.store.connection import describe_redis_error
from expbridge.events.store.listing import scan_index
from expbridge.events.store.submit import (
    IdempotencyConflict,
    IdempotencyInFlight,
    QueueUnavailable,
    Submission,
    build_record,
    submit,
)
from expbridge.events.target_refs import resolve_ref
from expbridge.service import app_keys as keys
from expbridge.service.answers import SlackReply
from expbridge.service.chatops.verify import SlashCommand
from expbridge.service.problems import Problem, redis_unavailable
from expbridge.service.validation import validate_event

log = structlog.get_logger("expbridge.chatops")
SOURCE = "slack"
ACTIONS = {"start": "experiment.start", "pause": "experiment.pause", "stop": "experiment.stop"}
STATUS_LINES = 5
SCHEDULED_LINES = 20


def ephemeral(text: str) -> web.Response:
    return SlackReply(response_type="ephemeral", text=text).response()


def utc_text(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def split_when(argument: str, now: datetime, max_ahead_s: float) -> tuple[str, datetime | None]:
    """`<target>`, `<target> at <RFC 3339>` or `<target> in <duration>`: the target, and when
    (None: now). ValueError with the accepted forms for anything else."""
    parts = argument.split()
    if len(parts) == 1:
        return parts[0], None
    if len(parts) != 3 or parts[1].lower() not in ("at", "in"):
        raise ValueError(f"say when as {FORMS}")
    try:
        if parts[1].lower() == "at":
            moment = parse_moment(parts[2])
        else:
            moment = now + parse_duration(parts[2])
        check_ahead(moment, now, max_ahead_s)
    except ValueError as error:
        raise ValueError(f"`{parts[1]} {parts[2]}`: {error}; say when as {FORMS}") from None
    return parts[0], moment


async def status(request: web.Request, command: SlashCommand) -> web.Response:
    aliases = request.app[keys.TARGET_ALIASES]
    target_key = resolve_ref(command.argument, aliases).ordering_key
    page = await scan_index(
        request.app[keys.REDIS],
        redis_keys.EVENT_INDEX,
        limit=STATUS_LINES,
        keep=lambda record: record.target == target_key,
    )
    if not page.records:
        return ephemeral(f"No events for {target_key} in the bridge yet.")
    lines = [
        f"• `{r.type}` {r.status} ({r.updated_at:%Y-%m-%d %H:%M} UTC, from {r.source}"
        + (f" by <@{r.cause.user}>" if r.cause and r.cause.user else "")
        + (f", rule {r.cause.rule}" if r.cause and r.cause.rule else "")
        + f") {r.id}"
        + (f" trace {r.trace_id}" if r.trace_id else "")
        for r in page.records
    ]
    return ephemeral(f"Latest events for {target_key}:\n" + "\n".join(lines))


async def scheduled(request: web.Request, command: SlashCommand) -> web.Response:
    """What is scheduled, soonest first: all of it, or one target's."""
    target_key = None
    if command.argument:
        aliases = request.app[keys.TARGET_ALIASES]
        target_key = resolve_ref(command.argument, aliases).ordering_key
    redis = request.app[keys.REDIS]
    ids = [raw.decode() for raw in await redis.zrange(redis_keys.SCHEDULED, 0, -1)]
    records = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        raws = await redis.mget([redis_keys.event(event_id) for event_id in chunk])
        records += [EventRecord.model_validate_json(raw) for raw in raws if raw is not None]
    wanted = [r for r in records if target_key in (None, r.target)]
    where = f" for {target_key}" if target_key else ""
    if not wanted:
        return ephemeral(f"Nothing is scheduled{where}.")
    lines = [
        f"• `{r.type}` {r.target} at {utc_text(r.not_before or r.received_at)} ({r.id}"
        + (f", by <@{r.cause.user}>" if r.cause and r.cause.user else f", from {r.source}")
        + ")"
        for r in wanted[:SCHEDULED_LINES]
    ]
    more = f"\n… and {len(wanted) - SCHEDULED_LINES} more" if len(wanted) > SCHEDULED_LINES else ""
    return ephemeral(f"Scheduled{where}:\n" + "\n".join(lines) + more)


async def cancel(request: web.Request, command: SlashCommand) -> web.Response:
    event_id = command.argument.split()[0]
    if len(event_id) > 64:
        return ephemeral(f"No event {event_id[:64]}….")
    done = await request.app[keys.CANCELLER].cancel(event_id, f"slack:{command.user_id}")
    if done.record is None:
        return ephemeral(f"No event {event_id}.")
    what = f"`{done.record.type}` on {done.record.target} ({event_id})"
    if done.outcome == "running":
        return ephemeral(f"Cannot cancel {what}: it is running and may already be upstream.")
    if done.outcome == "finished":
        return ephemeral(f"Cannot cancel {what}: it has already finished ({done.record.status}).")
    return ephemeral(f"Cancelled {what}.")


async def queue(
    request: web.Request, command: SlashCommand, body: bytes
) -> tuple[web.Response, str]:
    """start/pause/stop <target> [at <time> | in <duration>]: the event, queued or scheduled;
    and the result in a word (for the command's span, whose trace the event continues)."""
    settings = request.app[keys.SETTINGS]
    target_text, when = split_when(command.argument, utcnow(), settings.max_schedule_ahead_s)
    event_type = ACTIONS[command.verb]
    aliases = request.app[keys.TARGET_ALIASES]
    target = resolve_ref(target_text, aliases)
    envelope = EventEnvelope(type=event_type, data={"target": target.model_dump(exclude_none=True)})
    try:
        event = validate_event(envelope, aliases)
    except Problem as problem:
        return ephemeral(f"Cannot {command.verb} {target_text}: {problem.detail}"), "invalid"
    about = Submission(
        cause=Cause(
            kind="chatops",
            reason=f"{command.command} {command.text} by {command.user_id}",
            user=command.user_id,
            channel=command.channel_id,
            command=f"{command.command} {command.text}",
        ),
        reply_to=command.response_url,
        not_before=when,
        # The event continues the command's trace (service/chatops/routes.py's span).
        prepare=spans.keep_trace,
    )
    chatops = request.app[keys.CHATOPS].slack
    approvers = chatops.approval_for(command.user_id, command.channel_id, command.verb)
    if approvers is not None:  # four eyes: held until another person approves it
        held = build_record(event_type, SOURCE, event.data, about)
        spans.keep_trace(held)  # approved, it continues the command's trace
        approval = await request.app[keys.APPROVALS].request(
            held,
            command.user_id,
            command.channel_id,
            f"{command.command} {command.text}",
            command.verb,
            approvers,
        )
        structlog.contextvars.bind_contextvars(approval=approval.id, target=held.target)
        reply = SlackReply.model_validate(approval.request_message())
        return reply.response(), "held for approval"
    try:
        accepted = await submit(
            request.app[keys.ACCEPTOR],
            event_type,
            SOURCE,
            event.data,
            idempotency_key=command.trigger_id or None,
            fingerprint=hashlib.sha256(body).hexdigest(),
            about=about,
        )
    except (IdempotencyConflict, IdempotencyInFlight):
        return ephemeral("This command was already received."), "already received"
    except QueueUnavailable as unavailable:
        log.warning("accept failed: redis trouble", error=describe_redis_error(unavailable.cause))
        raise redis_unavailable(unavailable.cause, "the command was not queued") from None
    record = accepted.record
    structlog.contextvars.bind_contextvars(
        event_id=accepted.event_id, type=record.type, target=record.target
    )
    spans.current_outcome(True, **{"expbridge.event.id": accepted.event_id})
    traced = f" (trace {record.trace_id})" if record.trace_id else ""
    if record.status == "scheduled" and record.not_before is not None:
        return ephemeral(
            f"Scheduled `{record.type}` for {record.target} at "
            f"{utc_text(record.not_before)}: event {accepted.event_id}{traced}. "
            f"`{command.command} cancel {accepted.event_id}` cancels it."
        ), "scheduled"
    return ephemeral(
        f"Queued `{record.type}` for {record.target}: event {accepted.event_id}{traced}. "
        "The outcome will be posted here."
    ), "queued"
