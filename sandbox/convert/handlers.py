"""Convert CRUD handlers, built per resource kind and API version (`Flavor`)."""

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from expbridge.sandbox.convert import errors, experiences
from expbridge.sandbox.convert.bodies import (
    AudienceCreate,
    AudienceUpdate,
    Body,
    ExperienceCreate,
    ExperienceUpdate,
    GoalCreate,
    GoalUpdate,
    HypothesisCreate,
    HypothesisStatusChange,
    HypothesisUpdate,
    ProjectCreate,
    ProjectUpdate,
)
from expbridge.sandbox.convert.http import json, parse_body, read_object, state_of, validated
from expbridge.sandbox.convert.list_bodies import (
    AudienceList,
    ExperienceList,
    GoalList,
    HypothesisList,
    ListBody,
    ProjectList,
)
from expbridge.sandbox.convert.ops import (
    apply_changes,
    delete,
    get_project,
    get_scoped,
    listed,
    new_project,
    new_scoped,
    public,
)
from expbridge.sandbox.convert.state import ID_FIELDS


@dataclass(frozen=True)
class Flavor:
    default_per_page: int
    max_per_page: int | None
    enveloped_lists: bool
    create_status: int
    variations_on_experience: bool


V1 = Flavor(50, None, False, 200, False)
# [inferred] v2 answers 201 for every create (documented for experiences only).
V2 = Flavor(30, 50, True, 201, True)

LIST_MODELS: dict[str, type[ListBody]] = {
    "projects": ProjectList,
    "experiences": ExperienceList,
    "goals": GoalList,
    "hypotheses": HypothesisList,
    "audiences": AudienceList,
}
CREATE_MODELS: dict[str, type[Body]] = {
    "projects": ProjectCreate,
    "goals": GoalCreate,
    "hypotheses": HypothesisCreate,
    "audiences": AudienceCreate,
}
UPDATE_MODELS: dict[str, type[Body]] = {
    "projects": ProjectUpdate,
    "goals": GoalUpdate,
    "hypotheses": HypothesisUpdate,
    "audiences": AudienceUpdate,
}


def target(request: web.Request, kind: str) -> dict[str, Any]:
    """The object named by the path: {pid} for a project, {pid} and {oid} otherwise."""
    state = state_of(request)
    if kind == "projects":
        return get_project(state, request.match_info["pid"])
    return get_scoped(state, kind, request.match_info["pid"], request.match_info["oid"])


def list_handler(kind: str, flavor: Flavor) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        body = await parse_body(request, LIST_MODELS[kind], allow_empty=True)
        per_page = body.results_per_page or flavor.default_per_page
        if flavor.max_per_page is not None and per_page > flavor.max_per_page:
            limit = f"at most {flavor.max_per_page}"
            raise errors.validation_failed([("results_per_page", limit)])
        state = state_of(request)
        project_id = None if kind == "projects" else request.match_info["pid"]
        if project_id is not None:
            get_project(state, project_id)
        items = listed(state, kind, project_id, body)
        page = max(body.page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        if not flavor.enveloped_lists:
            return json(chunk)
        pagination = {"items_count": len(items), "current_page": page, "results_per_page": per_page}
        return json({"data": chunk, "extra": {"pagination": pagination}})

    return handle


def get_handler(kind: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return json(public(kind, target(request, kind)))

    return handle


def create_handler(kind: str, flavor: Flavor) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        state = state_of(request)
        project_id = None if kind == "projects" else request.match_info["pid"]
        if project_id is not None:
            get_project(state, project_id)
        data = await read_object(request)
        if project_id is None:
            obj = new_project(state, validated(ProjectCreate, data).full())
        elif kind == "experiences":
            body = validated(ExperienceCreate, data)
            obj = experiences.create(state, project_id, body, flavor.variations_on_experience)
        else:
            obj = new_scoped(state, kind, project_id, validated(CREATE_MODELS[kind], data).full())
        state.table(kind)[str(obj[ID_FIELDS[kind]])] = obj
        return json(public(kind, obj), status=flavor.create_status)

    return handle


def update_handler(kind: str, flavor: Flavor) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        obj = target(request, kind)
        data = await read_object(request, allow_empty=True)
        if kind == "experiences":
            body = validated(ExperienceUpdate, data)
            experiences.update(state_of(request), obj, body, flavor.variations_on_experience)
        else:
            apply_changes(kind, obj, validated(UPDATE_MODELS[kind], data).changes())
        return json(public(kind, obj))

    return handle


def delete_handler(kind: str) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        delete(state_of(request), kind, target(request, kind))
        return web.Response(status=204)

    return handle


async def hypothesis_status(request: web.Request) -> web.StreamResponse:
    hypothesis = target(request, "hypotheses")
    # [inferred] Convert publishes no rules for hypothesis status moves: any move is allowed.
    hypothesis["status"] = (await parse_body(request, HypothesisStatusChange)).status
    return json(public("hypotheses", hypothesis))
