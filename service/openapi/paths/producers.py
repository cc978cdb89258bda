"""Routes a producer calls: post an event, read and cancel it."""

from __future__ import annotations

from expbridge.service import answers
from expbridge.service.openapi.route_doc import (
    ADMIN,
    EVENT_BODY,
    SOURCE,
    STATUS_RECORD,
    WEBHOOK,
    Reply,
    RouteDoc,
    problems,
)

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
)
