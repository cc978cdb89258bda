"""Admin endpoints: recent events, dead letters, and replay of dead events."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis

from expbridge.events.envelope import Rfc3339Datetime
from expbridge.events.record import EventStatus
from expbridge.events.store.listing import (
    BadCursor,
    EventFilter,
    Page,
    dead_letter_page,
    event_page,
)
from expbridge.events.store.replay import BulkReplay, Replayer
from expbridge.service import answers
from expbridge.service import app_keys as keys
from expbridge.service.problems import Problem
from expbridge.service.validation import field_errors, parse_json_object

routes = web.RouteTableDef()
Limit = Annotated[int, Field(ge=1, le=500)]
M = TypeVar("M", bound=BaseModel)


class EventQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: EventStatus | None = None
    type: str | None = None
    limit: Limit = 50
    cursor: str | None = None


class DeadLetterQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str | None = None
    since: Rfc3339Datetime | None = None
    until: Rfc3339Datetime | None = None
    limit: Limit = 50
    cursor: str | None = None


class DeadLetterReplay(BaseModel):
    """Which dead events to re-queue: by id, or by type and time of death."""

    model_config = ConfigDict(extra="forbid")

    ids: list[str] | None = Field(None, max_length=1000)
    type: str | None = None
    since: Rfc3339Datetime | None = None
    until: Rfc3339Datetime | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


async def replay_selection(
    redis: Redis, replayer: Replayer, selection: DeadLetterReplay
) -> BulkReplay:
    """Re-queue the dead events named, or those that match (also the console's dead letters)."""
    if selection.ids is not None:
        candidates = selection.ids[: selection.limit]
    else:
        page = await dead_letter_page(
            redis,
            limit=selection.limit,
            event_type=selection.type,
            since=selection.since,
            until=selection.until,
        )
        candidates = [r.id for r in page.records]
    return await replayer.replay_many(candidates)


def _parse(model: type[M], raw: dict[str, Any], where: str) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise Problem(
            422,
            "Invalid request",
            f"the {where} is invalid",
            slug="validation",
            errors=field_errors(error),
        ) from None


def _page_answer(page: Page) -> web.Response:
    records = [r.public() for r in page.records]
    return answers.EventPage(data=records, next_cursor=page.next_cursor).response()


@routes.get("/v1/events")
async def list_events(request: web.Request) -> web.Response:
    request.app[keys.AUTHENTICATOR].require_admin(request)
    query = _parse(EventQuery, dict(request.query), "query")
    try:
        page = await event_page(
            request.app[keys.REDIS],
            EventFilter(status=query.status, type=query.type),
            limit=query.limit,
            cursor=query.cursor,
        )
    except BadCursor as error:
        raise Problem(422, "Invalid cursor", str(error), slug="validation") from None
    return _page_answer(page)


@routes.post("/v1/events/{event_id}/replay")
async def replay_event(request: web.Request) -> web.Response:
    request.app[keys.AUTHENTICATOR].require_admin(request)
    event_id = request.match_info["event_id"]
    outcome = await request.app[keys.REPLAYER].replay(event_id)
    if outcome == "missing":
        raise Problem(404, "Not found", f"no event {event_id!r}")
    if outcome == "not_dead":
        raise Problem(409, "Not dead", f"event {event_id!r} is not dead; only dead events replay")
    links = answers.EventLinks(self=f"/v1/events/{event_id}")
    return answers.ReplayAccepted(id=event_id, status="queued", links=links).response(202)


@routes.get("/v1/dead-letters")
async def list_dead_letters(request: web.Request) -> web.Response:
    request.app[keys.AUTHENTICATOR].require_admin(request)
    query = _parse(DeadLetterQuery, dict(request.query), "query")
    try:
        page = await dead_letter_page(
            request.app[keys.REDIS],
            limit=query.limit,
            event_type=query.type,
            since=query.since,
            until=query.until,
            cursor=query.cursor,
        )
    except BadCursor as error:
        raise Problem(422, "Invalid cursor", str(error), slug="validation") from None
    return _page_answer(page)


@routes.post("/v1/dead-letters/replay")
async def replay_dead_letters(request: web.Request) -> web.Response:
    request.app[keys.AUTHENTICATOR].require_admin(request)
    body = await request.read()
    selection = _parse(DeadLetterReplay, parse_json_object(body) if body else {}, "body")
    outcome = await replay_selection(request.app[keys.REDIS], request.app[keys.REPLAYER], selection)
    return answers.DeadLetterReplayResult.model_validate(
        {"replayed": outcome.replayed, "skipped": outcome.skipped}
    ).response()
