"""The console's filter forms: what a GET query says, validated; bad input is a message on the
page (400), never an error page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from expbridge.events.record import EventStatus
from expbridge.events.store.listing import EventFilter
from expbridge.service.validation import field_errors

M = TypeVar("M", bound=BaseModel)
PAGE_SIZE = 50


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _utc(value: Any) -> Any:
    """A browser's datetime-local field has no zone: the console speaks UTC."""
    value = _blank_is_none(value)
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.strip())
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value


Text = Annotated[str | None, BeforeValidator(_blank_is_none)]
Moment = Annotated[datetime | None, BeforeValidator(_utc)]


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def link(self, **changes: str | None) -> str:
        """This query as a URL query string, with some fields changed (for paging links)."""
        fields = {**self.model_dump(mode="json", exclude_none=True), **changes}
        return urlencode({k: v for k, v in fields.items() if v is not None})


class EventsQuery(_Query):
    status: Annotated[EventStatus | None, BeforeValidator(_blank_is_none)] = None
    type: Text = None
    source: Text = None
    target: Text = None
    since: Moment = None
    until: Moment = None
    id: Text = None
    cursor: Text = None

    @property
    def wanted(self) -> EventFilter:
        return EventFilter(
            status=self.status,
            type=self.type,
            source=self.source,
            target=self.target,
            since=self.since,
            until=self.until,
        )


class DeadLettersQuery(_Query):
    type: Text = None
    since: Moment = None
    until: Moment = None
    cursor: Text = None


def parse_query(model: type[M], raw: dict[str, Any]) -> tuple[M, list[str]]:
    """The query, or (when it is invalid) an empty one and what was wrong."""
    try:
        return model.model_validate(raw), []
    except (ValidationError, ValueError) as error:
        if isinstance(error, ValidationError):
            problems = [f"{e['field']}: {e['message']}" for e in field_errors(error)]
        else:
            problems = [str(error)]
        return model(), problems
