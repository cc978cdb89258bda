"""Slack's routes: slash commands and clicks on approval messages."""

from __future__ import annotations

from expbridge.service import answers
from expbridge.service.openapi.route_doc import (
    SLACK,
    Reply,
    RouteDoc,
    problems,
)

# Both routes are signed alike (service/chatops/verify.py).
SIGNED_HEADERS = {
    "X-Slack-Request-Timestamp": "unix seconds, within 5 minutes of now",
    "X-Slack-Signature": "v0=<hex HMAC-SHA256 of v0:timestamp:body>",
}
UNSIGNED = "missing or bad signature, stale timestamp, or a replayed request"
CHATOPS_OFF = "ChatOps is off: EXPBRIDGE_SLACK__SIGNING_SECRET is unset"

ROUTE_DOCS: tuple[RouteDoc, ...] = (
    RouteDoc(
        "POST",
        "/v1/chatops/slack",
        "A Slack slash command: /exp start|pause|stop|status|help <target>",
        "chatops",
        description=(
            "Verified with the Slack signing secret (X-Slack-Signature v0 over "
            "X-Slack-Request-Timestamp and the body, within 5 minutes, each signature once). "
            "start, pause and stop queue the catalog event (source `slack`); its outcome is "
            "posted to `response_url` when it succeeds or ends dead. Who may run what comes "
            "from `chatops.slack.permissions` in the config file; a refusal is an ephemeral "
            "200 answer, as Slack shows it to the user."
        ),
        security=(SLACK,),
        body=answers.SlackCommandForm,
        body_media_type="application/x-www-form-urlencoded",
        headers=SIGNED_HEADERS,
        replies={
            200: Reply(
                "the answer Slack shows the user: the queued event's id, a status, help, or "
                "a refusal (not permitted, unknown target or command)",
                answers.SlackReply,
            ),
            **problems(
                400,
                401,
                404,
                413,
                503,
                s400="response_url is not on an allowed host (EXPBRIDGE_SLACK__ALLOWED_HOSTS)",
                s401=UNSIGNED,
                s404=CHATOPS_OFF,
                s503="Redis unreachable: nothing was queued",
            ),
        },
    ),
    RouteDoc(
        "POST",
        "/v1/chatops/slack/interactions",
        "A click on a Slack approval message: Approve or Deny",
        "chatops",
        description=(
            "Slack's interactivity requests (`block_actions`), verified like the slash "
            "commands. The requester, or someone not allowed to run the command, gets an "
            "ephemeral refusal and the request stays as it is; otherwise the request is decided "
            "once (two clicks at the same moment: one decision) and its message replaced by the "
            "decision. An approval queues the event with a `cause` naming both people. Answers "
            "go to the click's `response_url`; the HTTP answer is an empty 200."
        ),
        security=(SLACK,),
        body=answers.SlackInteractionForm,
        body_media_type="application/x-www-form-urlencoded",
        headers=SIGNED_HEADERS,
        replies={
            200: Reply("taken; what happened is posted to the click's response_url"),
            **problems(
                400,
                401,
                404,
                413,
                s400="not a block_actions payload, an unknown action, or a response_url not on "
                "an allowed host",
                s401=UNSIGNED,
                s404=CHATOPS_OFF,
            ),
        },
    ),
)
