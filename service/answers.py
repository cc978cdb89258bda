"""The shapes of the API's answers, as pydantic models: the OpenAPI document is generated from
these (and from the event catalog and the status record), and tests hold real answers to them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from expbridge.events.rules.evaluation_log import RuleEvaluation


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldError(Answer):
    field: str
    message: str


class ProblemDetails(Answer):
    """RFC 9457 application/problem+json; `errors` lists field errors on validation problems."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class EventLinks(Answer):
    self: str


class AcceptedEvent(Answer):
    """202 for POST /v1/events: the event is durably queued (or was, for a replayed answer);
    `scheduled` when its not_before is ahead."""

    id: str
    status: Literal["queued", "scheduled"]
    type: str
    links: EventLinks


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
