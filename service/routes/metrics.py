"""GET /metrics: Prometheus text for the ingress, queue depths read from Redis per scrape."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from expbridge.service import app_keys as keys
from expbridge.service.auth import unauthorized

routes = web.RouteTableDef()


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    settings = app[keys.SETTINGS]
    if not settings.allows_metrics(request.headers.get("Authorization")):
        raise unauthorized("GET /metrics needs the EXPBRIDGE_METRICS_TOKEN bearer token")
    ingress_metrics = app[keys.METRICS]
    await ingress_metrics.read_queues(app[keys.REDIS], settings.queue_name)
    body = generate_latest(ingress_metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
