"""Dead letters: filter, pick some or all that match, replay, see what became of each."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from expbridge.events.store.listing import dead_letter_page
from expbridge.events.store.replay import BulkReplay
from expbridge.service import app_keys as keys
from expbridge.service.console.filters import PAGE_SIZE, DeadLettersQuery, parse_query
from expbridge.service.console.rendering import render
from expbridge.service.routes.admin import DeadLetterReplay, replay_selection

routes = web.RouteTableDef()
# "All that match" replays at most this many at once, like POST /v1/dead-letters/replay.
MAX_REPLAY = 1000


async def _page(
    request: web.Request,
    query: DeadLettersQuery,
    problems: list[str],
    outcome: BulkReplay | None = None,
) -> web.Response:
    try:
        page = await dead_letter_page(
            request.config_dict[keys.REDIS],
            limit=PAGE_SIZE,
            event_type=query.type,
            since=query.since,
            until=query.until,
            cursor=query.cursor,
        )
    except ValueError as error:
        problems.append(str(error))
        query = DeadLettersQuery()
        page = await dead_letter_page(request.config_dict[keys.REDIS], limit=PAGE_SIZE)
    context = {"query": query, "page": page, "problems": problems, "outcome": outcome}
    return render(request, "dead_letters.html", context, status=400 if problems else 200)


@routes.get("/dead-letters", name="dead_letters")
async def dead_letters_page(request: web.Request) -> web.Response:
    query, problems = parse_query(DeadLettersQuery, dict(request.query))
    return await _page(request, query, problems)


@routes.post("/dead-letters/replay", name="dead_letters_replay")
async def replay(request: web.Request) -> web.Response:
    form = await request.post()
    query, problems = parse_query(DeadLettersQuery, dict(form))
    if problems:
        return await _page(request, query, problems)
    try:
        if form.get("scope") == "all":
            selection = DeadLetterReplay(
                type=query.type, since=query.since, until=query.until, limit=MAX_REPLAY
            )
        else:
            ids = [str(value) for value in form.getall("ids", [])]
            if not ids:
                return await _page(request, query, ["pick at least one dead letter"])
            selection = DeadLetterReplay(ids=ids, limit=MAX_REPLAY)
    except ValidationError:
        return await _page(request, query, [f"at most {MAX_REPLAY} at once"])
    outcome = await replay_selection(
        request.config_dict[keys.REDIS], request.config_dict[keys.REPLAYER], selection
    )
    return await _page(request, query.model_copy(update={"cursor": None}), [], outcome)
