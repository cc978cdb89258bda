"""The status record of one accepted event, as stored in Redis and shown by GET /v1/events/{id}."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, Field, model_validator

from expbridge.events.rules.statistics import EvaluationStatistics

EventStatus = Literal[
    "scheduled", "queued", "running", "retrying", "succeeded", "dead", "cancelled"
]
TERMINAL: frozenset[str] = frozenset({"succeeded", "dead", "cancelled"})
# Not yet upstream: a cancel takes these out of their line (a running one may be upstream).
CANCELLABLE: frozenset[str] = frozenset({"scheduled", "queued", "retrying"})
# Kept in Redis, left out of the API's status record (and of its OpenAPI schema). reply_to is
# a Slack response_url: whoever holds it may post to the channel. trace_context is the W3C
# traceparent/tracestate the worker continues (the API shows its trace_id).
INTERNAL_FIELDS: frozenset[str] = frozenset({"data", "reply_to", "trace_context"})
StepStatus = Literal["pending", "done", "failed"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class StepRecord(BaseModel):
    name: str
    status: StepStatus = "pending"
    upstream_status: int | None = None
    idempotency_key: str
    attempts: int = 0
    # Its latest attempt's call: started (the provider's slot taken), finished when done.
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: dict[str, Any] | None = None


class ErrorInfo(BaseModel):
    kind: str
    message: str
    upstream_status: int | None = None
    provider: str | None = None
    code: str | None = None
    body: str | None = None


AttemptOutcome = Literal["retrying", "waiting", "dead"]
# What an event keeps of its attempts that did not succeed: the latest ones, each error cut
# short (the full last error is `last_error`). A success is its steps, so it adds nothing.
ATTEMPTS_KEPT = 20
ATTEMPT_ERROR_CHARS = 200


class AttemptRecord(BaseModel):
    """One attempt that did not succeed: it failed and is retried, it waited for its provider
    (circuit open, pace exceeded: not counted as an attempt), or it ended the event dead."""

    attempt: int
    started_at: datetime
    ended_at: datetime
    outcome: AttemptOutcome
    step: str | None = None
    upstream_status: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None


class Cause(BaseModel):
    """Why the bridge queued this event itself: a lifecycle rule fired, or a chat command."""

    kind: Literal["rule", "chatops"]
    reason: str
    rule: str | None = None
    # The rule's condition that fired (with the rule and target, what fires at most once).
    condition: str | None = None
    # What the rule decided on (events/rules/statistics.py), when it read a report's counts.
    statistics: EvaluationStatistics | None = None
    trigger_event_id: str | None = None
    # ChatOps: who asked, where, and what they typed.
    user: str | None = None
    channel: str | None = None
    command: str | None = None
    # A command that needed approval: who approved it (`user` asked for it).
    approved_by: str | None = None


# What stored_json leaves out: the result (kept in its step) and an empty attempt list. Sets,
# never changed: pydantic takes a frozenset at twice the cost.
_STORED_EXCLUDE = {"result"}
_STORED_WITHOUT_ATTEMPTS = {"result", "failed_attempts"}
_TRACE_FIELDS = frozenset(("trace_id", "trace_context"))  # (a set: updates without hashing)


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
    # The latest attempts that did not succeed, oldest first (at most ATTEMPTS_KEPT).
    failed_attempts: list[AttemptRecord] = Field(default_factory=list)
    last_error: ErrorInfo | None = None
    result: dict[str, Any] | None = None
    replays: int = 0
    requeued_at: datetime | None = None
    producer_id: str | None = None
    time: datetime | None = None
    cause: Cause | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    # Where the outcome is posted when the event ends (a Slack response_url).
    reply_to: str | None = None
    # When a scheduled event takes effect: until then it is `scheduled`, outside its line.
    not_before: datetime | None = None
    # Who cancelled it: the source, `admin`, or `slack:<user id>`.
    cancelled_by: str | None = None
    # The trace the event belongs to (config/tracing.py): its id, and the context of the span
    # that accepted it, which each worker attempt continues.
    trace_id: str | None = None
    trace_context: dict[str, str] | None = None

    @classmethod
    def trusted(
        cls, received_at: datetime, updated_at: datetime, data: dict[str, Any], **fields: Any
    ) -> EventRecord:
        """A record from fields already valid, each of its field's type: a new event's, which
        events/store/submit.py builds from its edge's validated parts (the rest are the model's
        defaults). What pydantic's `model_construct` does, which takes ~300 µs for this model
        (validating takes 3.4 µs; this a tenth of that, on the accept path)."""
        values = {**_PLAIN_DEFAULTS, **fields}
        if len(values) != len(_PLAIN_DEFAULTS):
            raise TypeError(
                f"not fields of EventRecord: {sorted(values.keys() - cls.model_fields.keys())}"
            )
        values["received_at"], values["updated_at"], values["data"] = received_at, updated_at, data
        values["steps"], values["failed_attempts"] = [], []
        record = cls.__new__(cls)
        object.__setattr__(record, "__dict__", values)
        object.__setattr__(
            record, "__pydantic_fields_set__", {"received_at", "updated_at", "data", *fields}
        )
        object.__setattr__(record, "__pydantic_extra__", None)
        object.__setattr__(record, "__pydantic_private__", None)
        return record

    def keep_trace(self, trace_id: str, trace_context: dict[str, str]) -> None:
        """Set the trace the event belongs to (config/accept_span.py, on the accept path): as
        pydantic's `__setattr__` sets a field, without its Python-level look-up of how to set
        it (~1.8 µs for the two)."""
        values = self.__dict__
        values["trace_id"], values["trace_context"] = trace_id, trace_context
        self.__pydantic_fields_set__.update(_TRACE_FIELDS)

    @model_validator(mode="after")
    def _result_of_last_done_step(self) -> EventRecord:
        # Stored once, in its step (see `stored_json`); the record's result is the latest one.
        if self.result is None:
            done = [step for step in self.steps if step.status == "done"]
            if done:
                self.result = done[-1].result
        return self

    def stored_json(self) -> bytes:
        """The record as kept in Redis: no nulls or empty attempt list, and the result only in
        its step (a finished event costs about half the memory of the full record,
        bench/worker_throughput.py). Bytes, as Redis takes them: pydantic's serializer makes
        bytes, and `model_dump_json` would decode them to text only for redis-py to encode
        it again (0.7 µs of an accept's 3.5 µs dump)."""
        if not (self.steps or self.failed_attempts or self.last_error or self.cause):
            # Plain values only (a new event's record): orjson writes pydantic's bytes, in the
            # fields' order, at a third of the cost (tests/events/test_record.py compares them).
            plain = {
                name: value
                for name, value in self.__dict__.items()
                if value is not None and name not in _STORED_WITHOUT_ATTEMPTS
            }
            try:
                return orjson.dumps(plain, option=orjson.OPT_UTC_Z)
            except TypeError:  # what orjson does not write as pydantic would (an int > 64 bits)
                pass
        exclude = _STORED_WITHOUT_ATTEMPTS if not self.failed_attempts else _STORED_EXCLUDE
        return self.__pydantic_serializer__.to_json(self, exclude_none=True, exclude=exclude)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def started_at(self) -> datetime:
        """Where the retry age counts from: acceptance, or the last replay."""
        return self.requeued_at or self.received_at

    def note_failed_attempt(
        self, started_at: datetime, outcome: AttemptOutcome, error: ErrorInfo
    ) -> None:
        """Keep this attempt's end in `failed_attempts` (next_attempt_at set first for a retry).
        `attempt` is the count so far: a wait for the provider does not add one."""
        open_step = next((s for s in self.steps if s.status != "done"), None)
        entry = AttemptRecord(
            attempt=self.attempts,
            started_at=started_at,
            ended_at=utcnow(),
            outcome=outcome,
            step=open_step.name if open_step else None,
            upstream_status=error.upstream_status,
            error=f"{error.kind}: {error.message}"[:ATTEMPT_ERROR_CHARS],
            next_attempt_at=self.next_attempt_at if outcome != "dead" else None,
        )
        self.failed_attempts = [*self.failed_attempts, entry][-ATTEMPTS_KEPT:]

    def step(self, name: str) -> StepRecord | None:
        return next((s for s in self.steps if s.name == name), None)

    def public(self) -> dict[str, Any]:
        """The status record as the API shows it: the event's data stays internal."""
        return self.model_dump(mode="json", exclude=set(INTERNAL_FIELDS))


# EventRecord.trusted's starting values, in the fields' order: each one's default (those made by
# a factory, the times, the data and the lists, are set per record).
_PLAIN_DEFAULTS: dict[str, Any] = {
    name: None if field.default_factory else field.default
    for name, field in EventRecord.model_fields.items()
}
