"""Convert variation endpoints: v1 add/delete, v2 update/delete."""

from aiohttp import web

from expbridge.sandbox.convert import experiences
from expbridge.sandbox.convert.bodies import VariationCreate, VariationUpdate
from expbridge.sandbox.convert.handlers import target
from expbridge.sandbox.convert.http import json, parse_body, state_of
from expbridge.sandbox.convert.ops import public


async def v1_add_variation(request: web.Request) -> web.StreamResponse:
    experience = target(request, "experiences")
    body = await parse_body(request, VariationCreate)
    experiences.add_variations(state_of(request), experience, [body.full()])
    # The seed answers with the whole experience.
    return json(public("experiences", experience))


async def v1_delete_variation(request: web.Request) -> web.StreamResponse:
    experience = target(request, "experiences")
    experiences.delete_variation(experience, request.match_info["vid"])
    # The seed's sample response for this delete is the experience, not an empty body.
    return json(public("experiences", experience))


async def v2_update_variation(request: web.Request) -> web.StreamResponse:
    experience = target(request, "experiences")
    body = await parse_body(request, VariationUpdate, allow_empty=True)
    return json(experiences.update_variation(experience, request.match_info["vid"], body))


async def v2_delete_variation(request: web.Request) -> web.StreamResponse:
    experience = target(request, "experiences")
    experiences.delete_variation(experience, request.match_info["vid"])
    return web.Response(status=204)
