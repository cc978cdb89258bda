"""Who reaches the console: closed without an admin token, a session for every page, the
token checked and never shown, CSRF on every action, sign-out and expiry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis

from expbridge.config.settings import Settings
from expbridge.events import keys
from tests.conftest import ADMIN_TOKEN, Ingress, running_ingress
from tests.helpers import run_worker_burst, start_event
from tests.service.console.session import browser_like, csrf_of, sign_in

PAGES = ["/ui", "/ui/events", "/ui/events/evt_x", "/ui/dead-letters", "/ui/rules", "/ui/providers"]
ACTIONS = ["/ui/events/evt_x/replay", "/ui/dead-letters/replay", "/ui/signout"]


async def test_closed_when_no_admin_token_is_set(make_settings: Callable[..., Settings]) -> None:
    async with running_ingress(make_settings(admin_token=None)) as ingress:
        for path in [*PAGES, "/ui/signin", "/ui/static/console.css"]:
            async with ingress.session.get(ingress.url(path), allow_redirects=False) as r:
                assert r.status == 404, path
        async with ingress.session.post(ingress.url("/ui/signin"), data={"token": "x"}) as r:
            assert r.status == 404


async def test_no_page_without_a_session(ingress: Ingress) -> None:
    for path in PAGES:
        async with ingress.session.get(ingress.url(path), allow_redirects=False) as r:
            assert r.status == 303, path
            assert r.headers["Location"] in ("/ui/signin", "/ui/events"), path
    for path in ACTIONS:
        async with ingress.session.post(ingress.url(path), data={"csrf": "x"}) as r:
            assert r.status == 401, path
    # A made-up session cookie is no session either.
    async with ingress.session.get(
        ingress.url("/ui/events"),
        headers={"Cookie": "expbridge_console=forged"},
        allow_redirects=False,
    ) as r:
        assert r.status == 303


async def test_wrong_token_is_invalid_and_never_echoed(ingress: Ingress) -> None:
    async with browser_like() as client:
        async with client.get(ingress.url("/ui/signin")) as r:
            form_token = csrf_of(await r.text())
        guess = "guess_0123456789_secret"
        async with client.post(
            ingress.url("/ui/signin"), data={"csrf": form_token, "token": guess}
        ) as r:
            assert r.status == 401
            page = await r.text()
        assert "invalid" in page and guess not in page and ADMIN_TOKEN not in page
        assert "expbridge_console" not in {c.key for c in client.cookie_jar}
        async with client.get(ingress.url("/ui/events"), allow_redirects=False) as r:
            assert r.status == 303


async def test_sign_in_needs_the_forms_csrf_token(ingress: Ingress) -> None:
    async with browser_like() as client:
        async with client.post(ingress.url("/ui/signin"), data={"token": ADMIN_TOKEN}) as r:
            assert r.status == 403
        async with client.get(ingress.url("/ui/events"), allow_redirects=False) as r:
            assert r.status == 303


async def test_session_cookie_flags_expiry_and_sign_out(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(console_session_ttl_s=120)
    async with running_ingress(settings) as ingress, browser_like() as client:
        async with client.get(ingress.url("/ui/signin")) as r:
            form_token = csrf_of(await r.text())
        async with client.post(
            ingress.url("/ui/signin"),
            data={"csrf": form_token, "token": ADMIN_TOKEN},
            allow_redirects=False,
        ) as r:
            assert r.status == 303
            cookie = r.cookies["expbridge_console"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/ui"
        assert not cookie["secure"]  # plain http here
        assert cookie["max-age"] == "120"
        assert ADMIN_TOKEN not in cookie.value
        redis = aioredis.Redis.from_url(settings.redis_url or "")
        stored = await redis.keys(keys.console_session("*"))
        assert len(stored) == 1 and 0 < await redis.ttl(stored[0]) <= 120
        assert ADMIN_TOKEN.encode() not in (await redis.get(stored[0]) or b"")

        async with client.get(ingress.url("/ui/events")) as r:
            assert r.status == 200
            csrf = csrf_of(await r.text())
        async with client.post(ingress.url("/ui/signout"), data={"csrf": csrf}) as r:
            assert r.url.path == "/ui/signin"
        assert await redis.keys(keys.console_session("*")) == []
        await redis.aclose()
        async with client.get(ingress.url("/ui/events"), allow_redirects=False) as r:
            assert r.status == 303


async def test_secure_cookie_over_https(ingress: Ingress) -> None:
    https = {"X-Forwarded-Proto": "https"}
    async with browser_like() as client:
        async with client.get(ingress.url("/ui/signin"), headers=https) as r:
            assert r.cookies["expbridge_console_signin"]["secure"]
            form_token = csrf_of(await r.text())
        # The client keeps Secure cookies for https only: hand this one back by hand.
        sent = {**https, "Cookie": f"expbridge_console_signin={form_token}"}
        async with client.post(
            ingress.url("/ui/signin"),
            data={"csrf": form_token, "token": ADMIN_TOKEN},
            headers=sent,
            allow_redirects=False,
        ) as r:
            assert r.status == 303
            assert r.cookies["expbridge_console"]["secure"]


async def test_actions_without_the_csrf_token_are_refused(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    response = await ingress.post_event(start_event("exp_missing"))
    event_id = (await response.json())["id"]
    await run_worker_burst(settings)
    assert (await ingress.get_record(event_id))["status"] == "dead"
    async with browser_like() as client:
        await sign_in(ingress, client)
        for data in ({}, {"csrf": "not-the-token"}):
            for path in (f"/ui/events/{event_id}/replay", "/ui/dead-letters/replay"):
                async with client.post(ingress.url(path), data={**data, "scope": "all"}) as r:
                    assert r.status == 403, path
                    assert "CSRF" in await r.text()
        assert (await ingress.get_record(event_id))["status"] == "dead"
        async with client.get(ingress.url("/ui/events")) as r:
            assert r.status == 200  # still signed in


async def test_pages_carry_a_strict_content_security_policy(ingress: Ingress) -> None:
    async with browser_like() as client:
        await sign_in(ingress, client)
        for path in PAGES[1:]:
            async with client.get(ingress.url(path)) as r:
                assert r.status in (200, 404), path
                assert "default-src 'self'" in r.headers["Content-Security-Policy"]
                assert r.headers["Cache-Control"] == "no-store"
                assert ADMIN_TOKEN not in await r.text()


async def test_the_token_is_never_logged(
    ingress: Ingress, capsys: pytest.CaptureFixture[str]
) -> None:
    async with browser_like() as client:
        async with client.get(ingress.url("/ui/signin")) as r:
            form_token = csrf_of(await r.text())
        async with client.post(
            ingress.url("/ui/signin"), data={"csrf": form_token, "token": "wrong_secret_42"}
        ) as r:
            assert r.status == 401
        csrf = await sign_in(ingress, client)
        async with client.post(ingress.url("/ui/signout"), data={"csrf": csrf}) as r:
            assert r.status == 200
    logged = capsys.readouterr()
    assert "path=/ui/signin" in logged.out  # the requests were logged
    for secret in (ADMIN_TOKEN, "wrong_secret_42", csrf):
        assert secret not in logged.out and secret not in logged.err
