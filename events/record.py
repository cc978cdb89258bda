"""The status record of one accepted event, as stored in Redis and shown by GET /v1/events/{id}."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

EventStatus = Literal["queued", "running", "retrying", "succeeded", "dead"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "dead"})
# Kept in Redis, left out of the API's status record (and of its OpenAPI schema).
INTERNAL_FIELDS: frozenset[str] = frozenset({"data"})
StepStatus = Literal["pending", "done", "failed"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class StepRecord(BaseModel):
    name: str
    status: StepStatus = "pending"
    upstream_status: int | None = None
    idempotency_key: str
    attempts: int = 0
    finished_at: datetime | None = None
    result: dict[str, Any] | None = None


class ErrorInfo(BaseModel):
    kind: str
    message: str
    upstream_status: int | None = None
    provider: str | None = None
    code: str | None = None
    body: str | None = None


class EventRecord(BaseModel):
    id: str
    type: str
    source: str
    target: str
    status: EventStatus = "queued"
    received_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    last_error: ErrorInfo | None = None
    result: dict[str, Any] | None = None
    replays: int = 0
    requeued_at: datetime | None = None
    producer_id: str | None = None
    time: datetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def started_at(self) -> datetime:
        """Where the retry age counts from: acceptance, or the last replay."""
        return self.requeued_at or self.received_at

    def step(self, name: str) -> StepRecord | None:
        return next((s for s in self.steps if s.name == name), None)

    def public(self) -> dict[str, Any]:
        """The status record as the API shows it: the event's data stays internal."""
        return self.model_dump(mode="json", exclude=set(INTERNAL_FIELDS))
