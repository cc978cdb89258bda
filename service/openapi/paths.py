"""What each route of the ingress is, for the OpenAPI document: one entry per method and path.

Add an entry with every new route: the document lists every registered route, and a test fails
when one has no entry here.
"""

from __future__ import annotations

from expbridge.service import answers
from expbridge.service.openapi.route_doc import (
    ADMIN,
    ADMIN_PROBLEMS,
    ANONYMOUS,
    EVENT_BODY,
    METRICS,
    SLACK,
    SOURCE,
    STATUS_RECORD,
    WEBHOOK,
    Reply,
    RouteDoc,
    problems,
    text,
)
from expbridge.service.routes.admin import DeadLetterQuery, DeadLetterReplay, EventQuery
from expbridge.service.routes.rules import EvaluationQuery

ROUTE_DOCS: tuple[RouteDoc, ...] = (
    RouteDoc(
        "POST",
        "/v1/events",
        "Accept one event",
        "events",
        description=(
            "Plain JSON (`type` and `data` required) or a CloudEvent 1.0 in structured mode "
            "(`application/cloudevents+json`) or binary mode (`ce-*` headers, the data as the "
            "body). The idempotency key is the signed `webhook-id` for a request authenticated "
            "by signature, else `Idempotency-Key`, else the event's `id`, scoped to the source "
            "and kept 24 h."
        ),
        security=(SOURCE, WEBHOOK),
        body=EVENT_BODY,
        headers={
            "Idempotency-Key": "idempotency key (1 to 256 characters); a signed request's key "
            "is its webhook-id",
            "webhook-id": "Standard Webhooks message id (also the idempotency key)",
            "webhook-timestamp": "Standard Webhooks timestamp, within ±5 minutes",
            "webhook-signature": "Standard Webhooks signature made with the source's whsec_ secret",
        },
        replies={
            202: Reply(
                "the event is durably queued; with `Idempotent-Replayed: true` the first "
                "answer for this idempotency key again, nothing queued twice",
                answers.AcceptedEvent,
                headers={
                    "Location": "the status record's path",
                    "Idempotent-Replayed": "`true` when this is a replayed answer",
                },
            ),
            **problems(
                400,
                401,
                409,
                413,
                415,
                422,
                503,
                s400="malformed JSON, or not a JSON object",
                s401="missing or unknown token, bad or stale signature",
                s409="the same idempotency key is being accepted right now",
                s413="body over EXPBRIDGE_MAX_BODY_BYTES",
                s422="schema error, unknown type or alias, an operation the target's provider "
                "does not support, or an idempotency key reused with another body",
                s503="Redis unreachable: the event was not accepted",
            ),
        },
    ),
    RouteDoc(
        "GET",
        "/v1/events/{event_id}",
        "An event's status record",
        "events",
        description="For the source that sent it, or the admin; another source gets 404.",
        security=(SOURCE, ADMIN),
        replies={200: Reply("the status record", STATUS_RECORD), **problems(401, 404)},
    ),
    RouteDoc(
        "POST",
        "/v1/events/{event_id}/cancel",
        "Cancel an event that is not upstream yet",
        "events",
        description=(
            "For the source that sent it, or the admin. A `scheduled`, `queued` or `retrying` "
            "event becomes `cancelled` and leaves its target's line (the next event proceeds). "
            "Cancelling a cancelled event answers its record again."
        ),
        security=(SOURCE, ADMIN),
        replies={
            200: Reply("the cancelled event's status record", STATUS_RECORD),
            **problems(
                401,
                404,
                409,
                s404="no such event, or another source's",
                s409="the event is running (it may already be upstream) or has finished",
            ),
        },
    ),
    RouteDoc(
        "GET",
        "/v1/events",
        "Recent events, newest first",
        "admin",
        security=(ADMIN,),
        query=EventQuery,
        replies={200: Reply("one page", answers.EventPage), **ADMIN_PROBLEMS, **problems(422)},
    ),
    RouteDoc(
        "POST",
        "/v1/events/{event_id}/replay",
        "Queue a dead event again",
        "admin",
        description="Done steps stay done; the event goes to the end of its target's line.",
        security=(ADMIN,),
        replies={
            202: Reply("queued again", answers.ReplayAccepted),
            **ADMIN_PROBLEMS,
            **problems(404, 409, s409="the event is not dead"),
        },
    ),
    RouteDoc(
        "GET",
        "/v1/dead-letters",
        "Dead events, newest first",
        "admin",
        security=(ADMIN,),
        query=DeadLetterQuery,
        replies={200: Reply("one page", answers.EventPage), **ADMIN_PROBLEMS, **problems(422)},
    ),
    RouteDoc(
        "POST",
        "/v1/dead-letters/replay",
        "Queue many dead events again",
        "admin",
        description="By `ids`, or by `type` and time of death (`since`, `until`); an empty "
        "body replays the newest `limit` dead events.",
        security=(ADMIN,),
        body=DeadLetterReplay,
        body_required=False,
        replies={
            200: Reply("what was queued again, and what was not", answers.DeadLetterReplayResult),
            **ADMIN_PROBLEMS,
            **problems(400, 422),
        },
    ),
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
        headers={
            "X-Slack-Request-Timestamp": "unix seconds, within 5 minutes of now",
            "X-Slack-Signature": "v0=<hex HMAC-SHA256 of v0:timestamp:body>",
        },
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
                s401="missing or bad signature, stale timestamp, or a replayed request",
                s404="ChatOps is off: EXPBRIDGE_SLACK__SIGNING_SECRET is unset",
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
        headers={
            "X-Slack-Request-Timestamp": "unix seconds, within 5 minutes of now",
            "X-Slack-Signature": "v0=<hex HMAC-SHA256 of v0:timestamp:body>",
        },
        replies={
            200: Reply("taken; what happened is posted to the click's response_url"),
            **problems(
                400,
                401,
                404,
                413,
                s400="not a block_actions payload, an unknown action, or a response_url not on "
                "an allowed host",
                s401="missing or bad signature, stale timestamp, or a replayed request",
                s404="ChatOps is off: EXPBRIDGE_SLACK__SIGNING_SECRET is unset",
            ),
        },
    ),
    RouteDoc(
        "GET",
        "/v1/rules/evaluations",
        "What the lifecycle rules decided, newest first",
        "admin",
        description=(
            "Every evaluation: fired (with the queued events), dry_run (what a dry-run rule "
            "would have done), not_met and already_fired (with the reasons), error."
        ),
        security=(ADMIN,),
        query=EvaluationQuery,
        replies={
            200: Reply("the evaluations", answers.RuleEvaluationPage),
            **ADMIN_PROBLEMS,
            **problems(422),
        },
    ),
    RouteDoc(
        "GET",
        "/healthz",
        "Liveness: the process answers",
        "operations",
        replies={200: Reply("alive", answers.Health)},
    ),
    RouteDoc(
        "GET",
        "/readyz",
        "Readiness: Redis is reachable",
        "operations",
        replies={
            200: Reply("ready", answers.Readiness),
            503: Reply("Redis unreachable", answers.Readiness),
        },
    ),
    RouteDoc(
        "GET",
        "/metrics",
        "Prometheus metrics (names prefixed expbridge_)",
        "operations",
        description="Open unless EXPBRIDGE_METRICS_TOKEN is set; then that bearer token.",
        security=(METRICS, ANONYMOUS),
        replies={
            200: text("Prometheus text format", "text/plain"),
            **problems(401, s401="EXPBRIDGE_METRICS_TOKEN is set and was not sent"),
        },
    ),
    RouteDoc(
        "GET",
        "/openapi.json",
        "This document",
        "operations",
        replies={200: Reply("OpenAPI 3.1", {"type": "object"})},
    ),
    RouteDoc(
        "GET",
        "/docs",
        "This document as a page (no external resources)",
        "operations",
        replies={200: text("HTML", "text/html")},
    ),
)
