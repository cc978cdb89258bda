"""The console as an aiohttp sub-application mounted at /ui: its own templates, static files and
middleware (closed without an admin token, a session for every page, CSRF on every POST)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from expbridge.config.rules import Rule
from expbridge.service import app_keys as keys
from expbridge.service.console import dead_letters, events, operations, signin
from expbridge.service.console.rendering import (
    RULES,
    SESSION,
    field_time,
    moment,
    refused,
    session_store,
    when,
)
from expbridge.service.console.session import SESSION_COOKIE
from expbridge.service.console.summaries import summaries_context

CONSOLE_PREFIX = "/ui"
# Pages anyone may reach (while an admin token is set): signing in, and the style sheet.
PUBLIC = frozenset({"signin", "signin_post", "static"})
SECURITY_HEADERS = {
    # Everything from this origin, nothing inline, no frames: works offline, resists injection.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@web.middleware
async def console_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.config_dict[keys.AUTHENTICATOR].has_admin:
        raise web.HTTPNotFound()  # closed: as if there were no console
    resource = request.match_info.route.resource
    public = resource is not None and resource.name in PUBLIC
    session = await session_store(request).find(request.cookies.get(SESSION_COOKIE))
    if session is None and not public:
        if request.method == "GET":
            raise web.HTTPSeeOther("/ui/signin")
        response: web.StreamResponse = refused(request, 401, "Sign in first.")
    elif session is not None and request.method == "POST" and not public:
        form = await request.post()
        if session.csrf_matches(form.get("csrf")):
            request[SESSION] = session
            response = await handler(request)
        else:
            response = refused(request, 403, "The form's CSRF token is missing or invalid.")
    else:
        if session is not None:
            request[SESSION] = session
        response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    return response


def create_console(rules: list[Rule]) -> web.Application:
    console = web.Application(middlewares=[console_middleware])
    console[RULES] = rules
    console.cleanup_ctx.append(summaries_context)
    package = files("expbridge.service.console")
    environment = aiohttp_jinja2.setup(
        console,
        loader=jinja2.PackageLoader("expbridge.service.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["when"] = when
    environment.filters["moment"] = moment
    environment.filters["field_time"] = field_time
    console.router.add_static("/static", Path(str(package / "static")), name="static")
    console.add_routes(signin.routes)
    console.add_routes(events.routes)
    console.add_routes(dead_letters.routes)
    console.add_routes(operations.routes)
    return console
