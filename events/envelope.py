"""The event envelope producers post: CloudEvents 1.0 structured mode, or plain JSON."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")
CLOUDEVENT_ATTRIBUTES = {
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "datacontenttype",
    "dataschema",
    "data",
    "data_base64",
}

NonEmpty = Annotated[str, Field(min_length=1, max_length=256)]
_SCHEDULE_SCHEMA: dict[str, Any] = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "when the event takes effect: RFC 3339 with a zone, at most "
    "EXPBRIDGE_MAX_SCHEDULE_AHEAD_S ahead (default 90 days); in the past means now",
}


def _rfc3339_text(value: Any) -> Any:
    """pydantic reads numbers (and numeric strings) as unix times; the schema says date-time."""
    if isinstance(value, datetime) or (isinstance(value, str) and RFC3339.match(value)):
        return value
    raise ValueError("must be an RFC 3339 timestamp, e.g. 2026-11-22T10:00:00Z")


Rfc3339Datetime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]


class EventEnvelope(BaseModel):
    """application/json: `type` and `data` required; the CloudEvents attributes optional."""

    model_config = ConfigDict(extra="allow")

    type: NonEmpty
    data: dict[str, Any]
    id: NonEmpty | None = None
    source: NonEmpty | None = None
    time: datetime | None = None
    specversion: Literal["1.0"] | None = None
    subject: str | None = None
    datacontenttype: str | None = None
    # Checked where the schedule-ahead limit is known (service/validation.py), so the 422 can
    # say what is wrong: not RFC 3339, no zone, or too far ahead.
    not_before: Any = Field(None, json_schema_extra=_SCHEDULE_SCHEMA)
    # The field that schedules the event (a CloudEvent's is its extension attribute).
    schedule_field: ClassVar[str] = "not_before"

    def schedule(self) -> Any:
        """The schedule field's value as sent (None: not scheduled)."""
        return self.not_before


class CloudEventEnvelope(EventEnvelope):
    """application/cloudevents+json: a valid CloudEvent per the CloudEvents 1.0 JSON format."""

    id: NonEmpty
    source: NonEmpty
    specversion: Literal["1.0"]
    time: AwareDatetime | None = None
    # The extension attribute that schedules a CloudEvent (extension names have no `_`).
    notbefore: Any = Field(None, json_schema_extra=_SCHEDULE_SCHEMA)
    schedule_field: ClassVar[str] = "notbefore"

    def schedule(self) -> Any:
        return self.notbefore

    @model_validator(mode="before")
    @classmethod
    def _cloudevent_rules(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        if "data_base64" in raw:
            if "data" in raw:
                raise ValueError("a CloudEvent has data or data_base64, not both")
            raise ValueError("data_base64 is not accepted: event data must be a JSON object")
        time = raw.get("time")
        if time is not None and not (isinstance(time, str) and RFC3339.match(time)):
            raise ValueError("time must be an RFC 3339 timestamp, e.g. 2026-11-22T10:00:00Z")
        for name in raw:
            if name not in CLOUDEVENT_ATTRIBUTES and not EXTENSION_NAME.match(name):
                raise ValueError(
                    f"extension attribute {name!r} must be 1-20 lower-case letters or digits"
                )
        return raw
