"""Signing in with the admin token, and out."""

from __future__ import annotations

import hmac
import secrets

import structlog
from aiohttp import web

from expbridge.service import app_keys as keys
from expbridge.service.console.rendering import SESSION, refused, render, session_store
from expbridge.service.console.session import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    SIGNIN_COOKIE_S,
    clear_cookie,
    set_cookie,
)
from expbridge.service.console.signin_limits import SigninLimiter
from expbridge.service.problems import Problem

routes = web.RouteTableDef()
log = structlog.get_logger("expbridge.console")


def _signin_form(request: web.Request, status: int = 200, invalid: bool = False) -> web.Response:
    form_token = secrets.token_urlsafe(32)
    response = render(
        request, "signin.html", {"form_token": form_token, "invalid": invalid}, status=status
    )
    set_cookie(request, response, SIGNIN_COOKIE, form_token, SIGNIN_COOKIE_S)
    return response


@routes.get("", name="home")
@routes.get("/", name="home_slash")
async def home(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/ui/events")


@routes.get("/signin", name="signin")
async def signin_page(request: web.Request) -> web.Response:
    if SESSION in request:
        raise web.HTTPSeeOther("/ui/events")
    return _signin_form(request)


@routes.post("/signin", name="signin_post")
async def signin(request: web.Request) -> web.Response:
    form = await request.post()
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    submitted = form.get("csrf")
    if not expected or not isinstance(submitted, str):
        return refused(request, 403, "The form's CSRF token is missing or invalid.")
    if not hmac.compare_digest(submitted, expected):
        return refused(request, 403, "The form's CSRF token is missing or invalid.")
    settings = request.config_dict[keys.SETTINGS]
    limiter = SigninLimiter(request.config_dict[keys.REDIS], settings.console_signin)
    places = await limiter.take(request.remote or "-")
    if places.retry_after_s is not None:
        # Whatever the token: a right guess past the limit looks like a wrong one.
        log.warning("console sign-in refused: too many tries", client=request.remote)
        headers = {"Retry-After": str(places.retry_after_s)}
        return Problem(429, "Too many requests", "invalid", headers=headers).response()
    token = form.get("token")
    if not request.config_dict[keys.AUTHENTICATOR].is_admin_token(
        token if isinstance(token, str) else None
    ):
        log.info("console sign-in with a wrong token", client=request.remote)
        return _signin_form(request, status=401, invalid=True)
    await limiter.give_back(places)
    cookie, _ = await session_store(request).open()
    response = web.HTTPSeeOther("/ui/events")
    set_cookie(request, response, SESSION_COOKIE, cookie, session_store(request).ttl_s)
    clear_cookie(response, SIGNIN_COOKIE)
    raise response


@routes.post("/signout", name="signout")
async def signout(request: web.Request) -> web.Response:
    await session_store(request).close(request.cookies.get(SESSION_COOKIE))
    response = web.HTTPSeeOther("/ui/signin")
    clear_cookie(response, SESSION_COOKIE)
    raise response
