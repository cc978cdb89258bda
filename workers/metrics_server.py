"""The worker's own small HTTP server for Prometheus: GET /metrics on the worker metrics port."""

from __future__ import annotations

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from expbridge.config.settings import Settings
from expbridge.events.problem import PROBLEM_MEDIA_TYPE, problem_body

log = structlog.get_logger("expbridge.worker")
REGISTRY = web.AppKey("registry", CollectorRegistry)
SETTINGS = web.AppKey("settings", Settings)


async def _metrics(request: web.Request) -> web.Response:
    if not request.app[SETTINGS].allows_metrics(request.headers.get("Authorization")):
        return web.Response(
            status=401,
            body=problem_body(
                401,
                "Unauthorized",
                "GET /metrics needs the EXPBRIDGE_METRICS_TOKEN bearer token",
                slug="unauthorized",
            ),
            content_type=PROBLEM_MEDIA_TYPE,
            headers={"WWW-Authenticate": 'Bearer realm="expbridge"'},
        )
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_metrics_app(registry: CollectorRegistry, settings: Settings) -> web.Application:
    app = web.Application()
    app[REGISTRY] = registry
    app[SETTINGS] = settings
    app.router.add_get("/metrics", _metrics)
    return app


async def start_metrics_server(
    registry: CollectorRegistry, settings: Settings
) -> web.AppRunner | None:
    """On EXPBRIDGE_HOST and the worker metrics port (0: no server). A busy port is logged, not
    fatal: jobs come first."""
    host, port = settings.host, settings.worker.metrics_port
    if port == 0:
        return None
    runner = web.AppRunner(create_metrics_app(registry, settings), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        log.error("worker metrics server could not listen", host=host, port=port, error=str(error))
        await runner.cleanup()
        return None
    log.info("worker metrics listening", url=f"http://{host}:{port}/metrics")
    return runner
