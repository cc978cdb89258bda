"""The minimal upstream of the worker benchmark, in its own process: Qonversion's
POST /v4/experiments/{id}/status answered 200 with the experiment, nothing else.

    python -m bench.upstream PORT
"""

from __future__ import annotations

import asyncio
import sys

import orjson
from aiohttp import web

from expbridge.cli import event_loop

SERVED = web.AppKey("served", list[int])


async def set_status(request: web.Request) -> web.Response:
    request.app[SERVED][0] += 1
    body = orjson.loads(await request.read())
    answer = {"object": "experiment", "id": request.match_info["id"], "status": body["status"]}
    return web.Response(body=orjson.dumps(answer), content_type="application/json")


async def healthz(_: web.Request) -> web.Response:
    return web.Response(text="ok")


async def served(request: web.Request) -> web.Response:
    """How many POSTs were answered so far (the bench checks every event made its call)."""
    return web.Response(text=str(request.app[SERVED][0]))


async def serve(port: int) -> None:
    app = web.Application()
    app[SERVED] = [0]
    app.router.add_get("/served", served)
    app.router.add_post("/v4/experiments/{id}/status", set_status)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()  # until terminated


if __name__ == "__main__":
    event_loop.run(serve(int(sys.argv[1])))
