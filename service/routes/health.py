"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from aiohttp import web
from redis.exceptions import RedisError

from expbridge.service import answers
from expbridge.service import app_keys as keys

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_: web.Request) -> web.Response:
    return answers.Health(status="ok").response()


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(1.0):
            await request.app[keys.REDIS].ping()
    except (RedisError, OSError, TimeoutError):
        return answers.Readiness(status="unavailable", redis="unreachable").response(503)
    return answers.Readiness(status="ok", redis="ok").response()
