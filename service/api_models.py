"""The shapes of the API's answers, as pydantic models: the OpenAPI document is generated from
these (and from the event catalog and the status record), and tests hold real answers to them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


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
    """202 for POST /v1/events: the event is durably queued (or was, for a replayed answer)."""

    id: str
    status: Literal["queued"]
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
