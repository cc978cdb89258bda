"""Console sessions: signing in with the admin token gives a random session cookie; Redis keeps
only the cookie's digest, its CSRF token and its expiry. The admin token itself is never stored,
rendered or logged."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis

from expbridge.events import keys

SESSION_COOKIE = "expbridge_console"
# Before signing in there is no session to hold a CSRF token: the sign-in form's token is
# checked against this short-lived cookie instead (double submit).
SIGNIN_COOKIE = "expbridge_console_signin"
SIGNIN_COOKIE_S = 600
COOKIE_PATH = "/ui"


@dataclass(frozen=True)
class ConsoleSession:
    csrf: str

    def csrf_matches(self, submitted: object) -> bool:
        return isinstance(submitted, str) and hmac.compare_digest(submitted, self.csrf)


def _key(cookie: str) -> str:
    return keys.console_session(hashlib.sha256(cookie.encode()).hexdigest())


class SessionStore:
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def open(self) -> tuple[str, ConsoleSession]:
        cookie = secrets.token_urlsafe(32)
        session = ConsoleSession(csrf=secrets.token_urlsafe(32))
        await self.redis.set(_key(cookie), json.dumps({"csrf": session.csrf}), ex=self.ttl_s)
        return cookie, session

    async def find(self, cookie: str | None) -> ConsoleSession | None:
        if not cookie:
            return None
        raw = await self.redis.get(_key(cookie))
        return ConsoleSession(csrf=json.loads(raw)["csrf"]) if raw is not None else None

    async def close(self, cookie: str | None) -> None:
        if cookie:
            await self.redis.delete(_key(cookie))


def is_https(request: web.Request) -> bool:
    # Behind a TLS-terminating proxy the scheme arrives in X-Forwarded-Proto.
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path=COOKIE_PATH)
