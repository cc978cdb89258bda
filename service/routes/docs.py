"""GET /openapi.json and GET /docs (a self-contained page that renders it: no CDN, no bundle)."""

from __future__ import annotations

from importlib.resources import files

from aiohttp import web

from expbridge.service import app_keys as keys
from expbridge.service.console.app import CONSOLE_PREFIX
from expbridge.service.openapi.document import OpenApiBuilder
from expbridge.service.openapi.paths import ROUTE_DOCS

routes = web.RouteTableDef()


async def build_openapi_document(app: web.Application) -> None:
    """on_startup: every route is registered by now, so the document lists all of them."""
    registered = [
        (route.method, route.resource.canonical, getattr(route.handler, "__name__", "handler"))
        for route in app.router.routes()
        # The console's pages are HTML for people, not part of the JSON API.
        if route.resource is not None and not route.resource.canonical.startswith(CONSOLE_PREFIX)
    ]
    app[keys.OPENAPI_DOCUMENT] = OpenApiBuilder(ROUTE_DOCS).document(registered)
    app[keys.DOCS_PAGE] = files("expbridge.service.openapi").joinpath("docs.html").read_bytes()


@routes.get("/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(request.app[keys.OPENAPI_DOCUMENT])


@routes.get("/docs")
async def docs(request: web.Request) -> web.Response:
    return web.Response(body=request.app[keys.DOCS_PAGE], content_type="text/html", charset="utf-8")
