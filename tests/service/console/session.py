"""Signing in to the console over plain HTTP, as a browser would (cookies and the form's CSRF)."""

from __future__ import annotations

import re

import aiohttp

from tests.conftest import ADMIN_TOKEN, Ingress

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def browser_like() -> aiohttp.ClientSession:
    # unsafe: keep cookies for an IP address host (the ingress listens on 127.0.0.1).
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(ingress: Ingress, client: aiohttp.ClientSession, token: str = ADMIN_TOKEN) -> str:
    """Sign in; the signed-in pages' CSRF token."""
    async with client.get(ingress.url("/ui/signin")) as response:
        assert response.status == 200
        form_token = csrf_of(await response.text())
    async with client.post(
        ingress.url("/ui/signin"), data={"csrf": form_token, "token": token}
    ) as response:
        assert response.status == 200, await response.text()
        assert response.url.path == "/ui/events"
        return csrf_of(await response.text())
