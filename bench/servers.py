"""The three servers of the accept benchmark, each run in its own process:
`python -m bench.servers bare|enqueue|expbridge PORT REDIS_URL TOKEN`.

The bare and enqueue servers run on the same event loop as `expbridge serve` (uvloop when
installed)."""

from __future__ import annotations

import os
import sys
import uuid

from aiohttp import web

try:
    from uvloop import new_event_loop
except ImportError:
    from asyncio import new_event_loop
from arq.connections import RedisSettings, create_pool

from bench.tracing_overhead import IN_PROCESS_TRACING, in_process_tracing
from expbridge.cli import event_loop
from expbridge.cli.processes import serve_forever
from expbridge.config.file import FileConfig
from expbridge.config.loading import load_settings
from expbridge.config.logging import configure_logging
from expbridge.config.tracing import configure_tracing


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def bare_app() -> web.Application:
    async def post(request: web.Request) -> web.Response:
        body = await request.json()
        answer = {"id": uuid.uuid4().hex, "status": "queued", "type": body["type"]}
        return web.json_response(answer, status=202)

    app = web.Application()
    app.router.add_post("/v1/events", post)
    app.router.add_get("/healthz", healthz)
    return app


def enqueue_app(redis_url: str) -> web.Application:
    async def pool_context(app: web.Application) -> object:
        app["pool"] = await create_pool(RedisSettings.from_dsn(redis_url))
        yield
        await app["pool"].aclose()

    async def post(request: web.Request) -> web.Response:
        body = await request.json()
        job = await request.app["pool"].enqueue_job("process_event", body)
        return web.json_response({"id": job.job_id, "status": "queued"}, status=202)

    app = web.Application()
    app.cleanup_ctx.append(pool_context)
    app.router.add_post("/v1/events", post)
    app.router.add_get("/healthz", healthz)
    return app


def serve_expbridge(port: int, redis_url: str, token: str) -> None:
    """Exactly `expbridge serve` (the same start-up, heap freeze and event loop)."""
    settings = load_settings(
        redis_url=redis_url,
        sources={"bench": {"token": token}},
        queue_name="bench:queue",
        log_format="json",
        port=port,
    )
    # The same INFO request logging as production, written to wherever stdout goes.
    configure_logging(settings.log_format, settings.log_level)
    # As `expbridge serve`: on only with OTEL_EXPORTER_OTLP_ENDPOINT (bench/tracing_overhead.py).
    if os.environ.get(IN_PROCESS_TRACING):
        in_process_tracing()
    else:
        configure_tracing("expbridge-bench")
    event_loop.run(serve_forever(settings, FileConfig()))


def main() -> None:
    kind, port, redis_url, token = sys.argv[1:5]
    if kind == "expbridge":
        serve_expbridge(int(port), redis_url, token)
        return
    app = bare_app() if kind == "bare" else enqueue_app(redis_url)
    # The same event loop as `expbridge serve` (uvloop when installed), for all three servers.
    web.run_app(
        app, host="127.0.0.1", port=int(port), print=None, access_log=None, loop=new_event_loop()
    )


if __name__ == "__main__":
    main()
