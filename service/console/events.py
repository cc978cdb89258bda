"""The events list, one event's page, and its actions (replay; cancel once it exists)."""

from __future__ import annotations

import json
from urllib.parse import quote

from aiohttp import web

from expbridge.events.record import CANCELLABLE, EventStatus
from expbridge.events.store.listing import event_page, status_counts
from expbridge.service import app_keys as keys
from expbridge.service.console.filters import PAGE_SIZE, EventsQuery, parse_query
from expbridge.service.console.operations import evaluation_row
from expbridge.service.console.rendering import render
from expbridge.service.console.summaries import SUMMARIES
from expbridge.service.console.timeline import other_fields, timeline

routes = web.RouteTableDef()
STATUSES: tuple[str, ...] = EventStatus.__args__  # type: ignore[attr-defined]


@routes.get("/events", name="events")
async def events_page(request: web.Request) -> web.Response:
    query, problems = parse_query(EventsQuery, dict(request.query))
    redis = request.config_dict[keys.REDIS]
    if query.id is not None:
        if await request.config_dict[keys.STORE].get(query.id) is not None:
            raise web.HTTPSeeOther(f"/ui/events/{quote(query.id, safe='')}")
        problems.append(f"no event {query.id!r}")
    try:
        page = await event_page(redis, query.wanted, limit=PAGE_SIZE, cursor=query.cursor)
    except ValueError as error:  # a cursor this page did not hand out
        problems.append(str(error))
        query = EventsQuery()
        page = await event_page(redis, query.wanted, limit=PAGE_SIZE)
    since, until = query.since, query.until
    summary = await request.app[SUMMARIES].get(
        ("counts", since, until), lambda: status_counts(redis, since=since, until=until)
    )
    counts = summary.value
    context = {
        "query": query,
        "page": page,
        "problems": problems,
        "statuses": STATUSES,
        "counts": [(s, counts.get(s, 0)) for s in STATUSES],
        "total": sum(counts.values()),
        "counts_as_of": summary.as_of,
    }
    return render(request, "events.html", context, status=400 if problems else 200)


@routes.get("/events/{event_id}", name="event")
async def event_view(request: web.Request) -> web.Response:
    event_id = request.match_info["event_id"]
    record = await request.config_dict[keys.STORE].get(event_id)
    if record is None:
        return render(request, "missing.html", {"event_id": event_id}, status=404)
    public = record.public()
    evaluations = []
    if record.cause is not None and record.cause.rule is not None:
        found = await request.config_dict[keys.RULE_LOG].recent(
            5, rule=record.cause.rule, target=record.target
        )
        evaluations = [evaluation_row(e) for e in found]
    context = {
        "record": record,
        "public": public,
        "timeline": timeline(record),
        "extra": other_fields(public),
        "cause": record.cause.model_dump(mode="json", exclude_none=True) if record.cause else None,
        "evaluations": evaluations,
        "sent": json.dumps(record.data, indent=2, sort_keys=True),
        "result": json.dumps(record.result, indent=2, sort_keys=True) if record.result else None,
        "notice": request.query.get("notice"),
        "can_cancel": record.status in CANCELLABLE,
    }
    return render(request, "event.html", context)


@routes.post("/events/{event_id}/replay", name="event_replay")
async def replay(request: web.Request) -> web.Response:
    event_id = request.match_info["event_id"]
    outcome = await request.config_dict[keys.REPLAYER].replay(event_id)
    notice = {"requeued": "replayed", "not_dead": "not_dead", "missing": "missing"}[outcome]
    raise web.HTTPSeeOther(f"/ui/events/{quote(event_id, safe='')}?notice={notice}")


@routes.post("/events/{event_id}/cancel", name="event_cancel")
async def cancel(request: web.Request) -> web.Response:
    """The same cancellation as POST /v1/events/{id}/cancel by the admin."""
    event_id = request.match_info["event_id"]
    done = await request.config_dict[keys.CANCELLER].cancel(event_id, "admin")
    raise web.HTTPSeeOther(f"/ui/events/{quote(event_id, safe='')}?notice={done.outcome}")
