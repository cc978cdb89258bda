"""POST /v1/chatops/slack: `/exp start|pause|stop|status|help <target>` from a Slack slash command.

Answers within Slack's 3 seconds with an ephemeral message: the accept is one Redis round trip.
start/pause/stop become catalog events (source "slack") on the same accept path as
POST /v1/events; the worker posts the outcome to the command's response_url when the event
succeeds or ends dead. Bad signature, stale timestamp or replay: 401. A user or channel the
config file does not allow: 200 with an ephemeral refusal (what Slack shows the user). A
response_url off the allowed hosts: 400, logged, nothing queued.
"""

from __future__ import annotations

import hashlib

import structlog
from aiohttp import web
from redis.exceptions import RedisError

from expbridge.config.spans import AcceptSpan
from expbridge.config.tracing import context_from
from expbridge.events import keys as redis_keys
from expbridge.events.envelope import EventEnvelope
from expbridge.events.record import Cause, EventRecord
from expbridge.events.store.acceptor import IdempotencyConflict, IdempotencyInFlight, new_event_id
from expbridge.events.store.listing import scan_index
from expbridge.events.target_refs import resolve_ref
from expbridge.service import app_keys as keys
from expbridge.service.chatops.verify import USAGE, SlashCommand, help_text, parse_command
from expbridge.service.problems import Problem
from expbridge.service.routes.events import read_body
from expbridge.service.validation import validate_event

log = structlog.get_logger("expbridge.chatops")
routes = web.RouteTableDef()
SOURCE = "slack"
ACTIONS = {"start": "experiment.start", "pause": "experiment.pause", "stop": "experiment.stop"}
STATUS_LINES = 5


def ephemeral(text: str) -> web.Response:
    return web.json_response({"response_type": "ephemeral", "text": text})


async def _status(request: web.Request, target_key: str) -> web.Response:
    page = await scan_index(
        request.app[keys.REDIS], redis_keys.EVENT_INDEX, limit=STATUS_LINES,
        keep=lambda record: record.target == target_key,
    )  # fmt: skip
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


async def _queue(request: web.Request, command: SlashCommand, body: bytes) -> web.Response:
    event_type = ACTIONS[command.verb]
    aliases = request.app[keys.TARGET_ALIASES]
    target = resolve_ref(command.argument, aliases)
    envelope = EventEnvelope(type=event_type, data={"target": target.model_dump(exclude_none=True)})
    try:
        event = validate_event(envelope, aliases)
    except Problem as problem:
        return ephemeral(f"Cannot {command.verb} {command.argument}: {problem.detail}")
    record = EventRecord(
        id=new_event_id(), type=event_type, source=SOURCE, target=event.ordering_key,
        data=event.data.model_dump(mode="json", exclude_unset=True),
        cause=Cause(
            kind="chatops", reason=f"{command.command} {command.text} by {command.user_id}",
            user=command.user_id, channel=command.channel_id,
            command=f"{command.command} {command.text}",
        ),
        reply_to=command.response_url,
    )  # fmt: skip
    key = redis_keys.idempotency(SOURCE, command.trigger_id) if command.trigger_id else None
    fingerprint = hashlib.sha256(body).hexdigest()
    try:
        # Slack sends no trace context; the command starts the event's trace.
        with AcceptSpan(record, context_from(request.headers), f"slack {command.command}"):
            accepted = await request.app[keys.ACCEPTOR].accept(record, key, fingerprint)
    except (IdempotencyConflict, IdempotencyInFlight):
        return ephemeral("This command was already received.")
    except RedisError:
        log.exception("accept failed: redis unavailable")
        raise Problem(503, "Service unavailable", "the queue is unreachable") from None
    structlog.contextvars.bind_contextvars(
        event_id=accepted.event_id, type=event_type, target=record.target
    )
    traced = f" (trace {record.trace_id})" if record.trace_id else ""
    return ephemeral(
        f"Queued `{event_type}` for {record.target}: event {accepted.event_id}{traced}. "
        "The outcome will be posted here."
    )


@routes.post("/v1/chatops/slack")
async def slack_command(request: web.Request) -> web.Response:
    app = request.app
    verifier = app[keys.SLACK_VERIFIER]
    if verifier is None:
        raise Problem(404, "Not found", "Slack ChatOps is off: EXPBRIDGE_SLACK__SIGNING_SECRET")
    body = await read_body(request)
    await verifier.verify(request.headers, body)
    command = parse_command(body)
    structlog.contextvars.bind_contextvars(
        source=SOURCE, slack_user=command.user_id, slack_channel=command.channel_id,
        verb=command.verb,
    )  # fmt: skip
    refusal = app[keys.SETTINGS].slack.refusal_for(command.response_url)
    if refusal is not None:
        log.warning("slack response_url refused", reason=refusal)
        raise Problem(400, "Bad response_url", f"response_url refused: {refusal}")
    if command.verb == "help":
        return ephemeral(help_text(command.command))
    if command.verb not in (*ACTIONS, "status") or not command.argument:
        return ephemeral(f"Unknown command `{command.command} {command.text}`. Try {USAGE}.")
    if not app[keys.CHATOPS].slack.allows(command.user_id, command.channel_id, command.verb):
        log.warning("slack command refused: not permitted")
        return ephemeral(
            f"Sorry <@{command.user_id}>, you may not run `{command.command} {command.verb}` "
            "here (see chatops.slack.permissions in the bridge's config file)."
        )
    try:
        if command.verb == "status":
            aliases = app[keys.TARGET_ALIASES]
            target = resolve_ref(command.argument, aliases)
            return await _status(request, target.ordering_key)
        return await _queue(request, command, body)
    except ValueError as error:
        return ephemeral(f"{error}. Try {USAGE}.")
