"""Qonversion v4 groups (variants) of an experiment, and users attached to them."""

from aiohttp import web

from expbridge.sandbox.qonversion import errors
from expbridge.sandbox.qonversion.bodies import EXPERIMENT_ID_MAX, GroupCreate, UserAttach
from expbridge.sandbox.qonversion.http import experiment_from_path, json, parse_body, state_of
from expbridge.sandbox.qonversion.state import experiment_url, new_group


async def list_groups(request: web.Request) -> web.Response:
    experiment = experiment_from_path(request)
    groups = state_of(request).groups_of(experiment["id"])
    url = f"{experiment_url(experiment['id'])}/groups"
    return json({"object": "list", "url": url, "data": groups, "has_more": False})


async def create_group(request: web.Request) -> web.Response:
    experiment = experiment_from_path(request)
    body = await parse_body(request, GroupCreate)
    state = state_of(request)
    group = new_group(state, experiment["id"], body.model_dump())
    state.groups[group["id"]] = group
    return json(group, status=201)


def _user_id(request: web.Request) -> str:
    user_id = request.match_info["user_id"]
    # [inferred] No rule is published for user ids; the experiment id's length limit is used.
    if len(user_id) > EXPERIMENT_ID_MAX:
        raise errors.invalid_parameter(
            [("user_id", f"must be at most {EXPERIMENT_ID_MAX} characters")]
        )
    return user_id


async def attach_user(request: web.Request) -> web.Response:
    experiment = experiment_from_path(request)
    user_id = _user_id(request)
    body = await parse_body(request, UserAttach)
    state = state_of(request)
    group = state.groups.get(body.group_id)
    if group is None or group["experiment_id"] != experiment["id"]:
        # [inferred] 422 with a field detail; the status for this case is not published.
        raise errors.validation_failed([("group_id", "not a group of this experiment")])
    state.users.setdefault(experiment["id"], {})[user_id] = group["id"]
    return json(
        {
            "object": "experiment_user",
            "experiment_id": experiment["id"],
            "user_id": user_id,
            "group_id": group["id"],
        }
    )


async def detach_user(request: web.Request) -> web.Response:
    experiment = experiment_from_path(request)
    user_id = _user_id(request)
    attached = state_of(request).users.get(experiment["id"], {})
    if user_id not in attached:
        raise errors.not_found(f"User {user_id!r} in experiment {experiment['id']!r}")
    del attached[user_id]
    return web.Response(status=204)
