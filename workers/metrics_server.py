"""The worker's own small HTTP server for Prometheus: GET /metrics on the worker metrics port."""

from __future__ import annotations

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = structlog.get_logger("expbridge.worker")
REGISTRY = web.AppKey("registry", CollectorRegistry)


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_metrics_app(registry: CollectorRegistry) -> web.Application:
    app = web.Application()
    app[REGISTRY] = registry
    app.router.add_get("/metrics", _metrics)
    return app


async def start_metrics_server(
    registry: CollectorRegistry, host: str, port: int
) -> web.AppRunner | None:
    """Listen on host:port (0: no server). A busy port is logged, not fatal: jobs come first."""
    if port == 0:
        return None
    runner = web.AppRunner(create_metrics_app(registry), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        log.error("worker metrics server could not listen", host=host, port=port, error=str(error))
        await runner.cleanup()
        return None
    log.info("worker metrics listening", url=f"http://{host}:{port}/metrics")
    return runner
