"""The shapes of the API's answers, as pydantic models: the OpenAPI document is generated from
these (and from the event catalog and the status record), and tests hold real answers to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from expbridge.events.problem import FieldError, ProblemDetails
from expbridge.events.rules.evaluation_log import RuleEvaluation

__all__ = ["FieldError", "ProblemDetails"]  # problems are built in events/problem.py
# The status record's schema is generated from EventRecord (service/openapi/document.py).
STATUS_RECORD = "EventStatusRecord"
STATUS_RECORDS = {"type": "array", "items": {"$ref": f"#/components/schemas/{STATUS_RECORD}"}}


class Answer(BaseModel):
    """A JSON answer: handlers answer with `.response()`, so the answer is the documented model."""

    model_config = ConfigDict(extra="forbid")
    # An answer whose optional parts are left out when empty (not sent as null).
    omit_none: ClassVar[bool] = False

    def response(self, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
        body = self.__pydantic_serializer__.to_json(self, exclude_none=self.omit_none)
        return web.Response(
            body=body, status=status, content_type="application/json", headers=headers
        )


class EventLinks(Answer):
    self: str


class AcceptedEvent(Answer):
    """202 for POST /v1/events: the event is durably queued (or was, for a replayed answer);
    `scheduled` when its not_before is ahead."""

    id: str
    status: Literal["queued", "scheduled"]
    type: str
    links: EventLinks


class EventPage(Answer):
    """One page of status records, newest first; `next_cursor` asks for the next (null: none)."""

    data: Annotated[
        list[dict[str, Any]],
        WithJsonSchema(STATUS_RECORDS),
    ]
    next_cursor: str | None


class ReplayAccepted(Answer):
    """202 for POST /v1/events/{event_id}/replay: the dead event is queued again."""

    id: str
    status: Literal["queued"]
    links: EventLinks


class ReplayOutcome(Answer):
    id: str
    outcome: str


class DeadLetterReplayResult(Answer):
    replayed: list[ReplayOutcome]
    skipped: list[ReplayOutcome]


class Health(Answer):
    status: Literal["ok"]


class Readiness(Answer):
    status: Literal["ok", "unavailable"]
    redis: Literal["ok", "unreachable"]


class SlackReply(Answer):
    """What Slack shows the user who typed the command (only them: ephemeral), or, for a
    command that needs approval, the message with Approve / Deny buttons in the channel."""

    omit_none = True

    response_type: Literal["ephemeral", "in_channel"]
    text: str
    blocks: list[dict[str, Any]] | None = None


class SlackCommandForm(BaseModel):
    """The slash command as Slack posts it (application/x-www-form-urlencoded); other fields
    Slack sends are ignored."""

    command: str = Field(description="the command as typed, e.g. /exp")
    text: str = Field(
        description="start|pause|stop <target> [at <time>|in <duration>], status <target>, "
        "scheduled [<target>], cancel <event id>, help"
    )
    user_id: str
    user_name: str | None = None
    channel_id: str
    response_url: str = Field(description="where the outcome is posted; an allowed host only")
    trigger_id: str | None = Field(None, description="also the idempotency key")


class SlackInteractionForm(BaseModel):
    """A click on an approval message as Slack posts it (application/x-www-form-urlencoded)."""

    payload: str = Field(
        description="JSON: a block_actions payload (`user.id`, `actions[0].action_id` "
        "approval.approve or approval.deny, `actions[0].value` the approval id, `response_url`)"
    )


class RuleEvaluationPage(Answer):
    data: list[RuleEvaluation]
