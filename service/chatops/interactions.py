"""POST /v1/chatops/slack/interactions: Approve / Deny clicks on an approval message (Slack's
`block_actions`, a form-encoded `payload`), verified like the slash commands (signing secret,
5-minute window, no replays).

Slack ignores the answer to a click, so the bridge answers 200 at once and posts to the click's
response_url: the message replaced by the decision, or an ephemeral note to whoever clicked
(the requester, someone not allowed, a request decided or expired already).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import structlog
from aiohttp import web

from expbridge.events.store.approvals import APPROVE, DENY
from expbridge.service import app_keys as keys
from expbridge.service.chatops.verify import verified_body
from expbridge.service.problems import Problem

log = structlog.get_logger("expbridge.chatops")
routes = web.RouteTableDef()
DECISIONS = {APPROVE: "approved", DENY: "denied"}
EXPIRED = "This approval request has expired; nothing was queued."


@dataclass(frozen=True)
class Click:
    user_id: str
    action_id: str
    approval_id: str
    response_url: str


def parse_click(body: bytes) -> Click:
    """A block_actions payload's first action; a 400 Problem for anything else."""
    form = parse_qs(body.decode("utf-8", errors="replace"))
    try:
        payload: Any = json.loads(form.get("payload", [""])[0])
    except ValueError:
        payload = None
    actions = payload.get("actions") if isinstance(payload, dict) else None
    action = actions[0] if isinstance(actions, list) and actions else None
    user = payload.get("user") if isinstance(payload, dict) else None
    if (
        not isinstance(payload, dict)
        or payload.get("type") != "block_actions"
        or not isinstance(action, dict)
        or not isinstance(user, dict)
    ):
        raise Problem(400, "Bad interaction", "expected a block_actions payload")
    return Click(
        user_id=str(user.get("id", "")),
        action_id=str(action.get("action_id", "")),
        approval_id=str(action.get("value", "")),
        response_url=str(payload.get("response_url", "")),
    )


def _note(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def _already(state: str, by: str | None) -> list[dict[str, Any]]:
    if state == "expired":
        return [_note(EXPIRED)]
    return [_note(f"Already {state}" + (f" by <@{by}>." if by else "."))]


async def _decide(app: web.Application, click: Click) -> list[dict[str, Any]]:
    """What to post to the click's response_url."""
    approval = await app[keys.APPROVALS].get(click.approval_id)
    if approval is None:
        return [_note(EXPIRED)]
    if approval.state != "pending":
        return _already(approval.state, approval.decided_by)
    if click.user_id == approval.requester:
        log.warning("slack approval refused: the requester")
        return [_note("You asked for this: another person must approve or deny it.")]
    chatops = app[keys.CHATOPS].slack
    if not chatops.may_approve(
        click.user_id, approval.channel, approval.verb, approval.requester, approval.approvers
    ):
        log.warning("slack approval refused: not permitted")
        refusal = f"Sorry <@{click.user_id}>, you may not approve or deny `{approval.command}`."
        return [_note(refusal)]
    wanted = DECISIONS[click.action_id]
    decision = await app[keys.APPROVALS].decide(
        approval, wanted, click.user_id, reply_to=click.response_url
    )
    structlog.contextvars.bind_contextvars(approval=approval.id, decision=decision.state)
    if not decision.decided_now:  # someone else's click came first
        fresh = await app[keys.APPROVALS].get(approval.id)
        return _already(decision.state, fresh.decided_by if fresh else None)
    log.info("slack approval decided", event_id=approval.event.id)
    posts = [approval.decided_message(decision.state, click.user_id)]
    return [*posts, _note(EXPIRED)] if decision.state == "expired" else posts


@routes.post("/v1/chatops/slack/interactions")
async def slack_interaction(request: web.Request) -> web.Response:
    app = request.app
    body = await verified_body(request)
    click = parse_click(body)
    structlog.contextvars.bind_contextvars(source="slack", slack_user=click.user_id)
    refusal = app[keys.SETTINGS].slack.refusal_for(click.response_url)
    if refusal is not None:
        log.warning("slack response_url refused", reason=refusal)
        raise Problem(400, "Bad response_url", f"response_url refused: {refusal}")
    if click.action_id not in DECISIONS:
        raise Problem(400, "Bad interaction", f"unknown action {click.action_id[:64]!r}")
    for post in await _decide(app, click):
        app[keys.SLACK_POSTER].post_later(click.response_url, post, "approval")
    return web.Response(status=200)
