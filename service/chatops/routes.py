"""POST /v1/chatops/slack: `/exp start|pause|stop <target> [at <time> | in <duration>]`,
`/exp status <target>`, `/exp scheduled [<target>]`, `/exp cancel <event id>`, `/exp help`.

Answers within Slack's 3 seconds with an ephemeral message: the accept is one Redis round trip.
start/pause/stop become catalog events (source "slack") on the same accept path as
POST /v1/events; the worker posts the outcome to the command's response_url when the event
succeeds or ends dead. Bad signature, stale timestamp or replay: 401. A user or channel the
config file does not allow: 200 with an ephemeral refusal (what Slack shows the user). A
response_url off the allowed hosts: 400, logged, nothing queued.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from opentelemetry import trace

from expbridge.config import spans
from expbridge.config.tracing import context_from
from expbridge.service import app_keys as keys
from expbridge.service.chatops import commands
from expbridge.service.chatops.commands import ACTIONS, SOURCE, ephemeral
from expbridge.service.chatops.verify import (
    USAGE,
    SlashCommand,
    help_text,
    parse_command,
    verified_body,
)
from expbridge.service.problems import Problem

log = structlog.get_logger("expbridge.chatops")
routes = web.RouteTableDef()
# Commands that need an argument, and the ones that may go without.
NEEDS_ARGUMENT = (*ACTIONS, "status", "cancel")
BARE = ("scheduled",)


@routes.post("/v1/chatops/slack")
async def slack_command(request: web.Request) -> web.Response:
    body = await verified_body(request)
    command = parse_command(body)
    structlog.contextvars.bind_contextvars(
        source=SOURCE,
        slack_user=command.user_id,
        slack_channel=command.channel_id,
        verb=command.verb,
    )
    name = f"slack {command.command}"
    with spans.command_span(name, command.verb, context_from(request.headers)) as span:
        if span is not None and (context := span.get_span_context()).is_valid:
            # The request's log line (written after this block) carries the command's trace.
            structlog.contextvars.bind_contextvars(
                trace_id=trace.format_trace_id(context.trace_id),
                span_id=trace.format_span_id(context.span_id),
            )
        try:
            response, result = await run_command(request, command, body)
        except Problem as problem:
            spans.current_outcome(
                problem.status < 500, problem.title, **{"expbridge.slack.result": problem.slug}
            )
            raise
        # A command refused (not permitted, not understood) is the user's: not an error.
        spans.current_outcome(True, **{"expbridge.slack.result": result})
        return response


async def run_command(
    request: web.Request, command: SlashCommand, body: bytes
) -> tuple[web.Response, str]:
    """The command's answer, and its result in a word (the command span's)."""
    app = request.app
    refusal = app[keys.SETTINGS].slack.refusal_for(command.response_url)
    if refusal is not None:
        log.warning("slack response_url refused", reason=refusal)
        raise Problem(400, "Bad response_url", f"response_url refused: {refusal}")
    if command.verb == "help":
        return ephemeral(help_text(command.command)), "help"
    known = (command.verb in NEEDS_ARGUMENT and command.argument) or command.verb in BARE
    if not known:
        text = f"Unknown command `{command.command} {command.text}`. Try {USAGE}."
        return ephemeral(text), "unknown command"
    if not app[keys.CHATOPS].slack.allows(command.user_id, command.channel_id, command.verb):
        log.warning("slack command refused: not permitted")
        return ephemeral(
            f"Sorry <@{command.user_id}>, you may not run `{command.command} {command.verb}` "
            "here (see chatops.slack.permissions in the bridge's config file)."
        ), "not permitted"
    try:
        if command.verb == "status":
            return await commands.status(request, command), "listed"
        if command.verb == "scheduled":
            return await commands.scheduled(request, command), "listed"
        if command.verb == "cancel":
            return await commands.cancel(request, command), "answered"
        return await commands.queue(request, command, body)
    except ValueError as error:
        return ephemeral(f"{error}. Try {USAGE}."), "not understood"
