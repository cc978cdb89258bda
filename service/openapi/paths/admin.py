"""Admin routes: listings, replay, dead letters, the rules' evaluations."""

from __future__ import annotations

from expbridge.service import answers
from expbridge.service.openapi.route_doc import (
    ADMIN,
    ADMIN_PROBLEMS,
    Reply,
    RouteDoc,
    problems,
)
from expbridge.service.routes.admin import DeadLetterQuery, DeadLetterReplay, EventQuery
from expbridge.service.routes.rules import EvaluationQuery

ROUTE_DOCS: tuple[RouteDoc, ...] = (
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
)
