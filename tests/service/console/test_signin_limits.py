"""Sign-in attempts are limited per client address and over all clients (in Redis): past a
limit the sign-in is refused with 429 and the one word "invalid", even with the right token."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
import redis.asyncio as aioredis

from expbridge.config.settings import Settings
from expbridge.events import keys
from tests.conftest import ADMIN_TOKEN, Ingress, running_ingress
from tests.service.console.session import csrf_of

LIMITS = {"per_client": 3, "overall": 5, "window_s": 60}


def client_from(address: str) -> aiohttp.ClientSession:
    """A browser-like client whose connections come from this loopback address."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True))


async def try_token(ingress: Ingress, address: str, token: str) -> aiohttp.ClientResponse:
    async with client_from(address) as client:
        async with client.get(ingress.url("/ui/signin")) as r:
            form_token = csrf_of(await r.text())
        async with client.post(
            ingress.url("/ui/signin"),
            data={"csrf": form_token, "token": token},
            allow_redirects=False,
        ) as r:
            await r.read()
            return r


async def assert_refused(answer: aiohttp.ClientResponse) -> None:
    assert answer.status == 429
    assert answer.content_type == "application/problem+json"
    problem = await answer.json(content_type=None)
    assert problem["status"] == 429 and problem["detail"] == "invalid"
    assert ADMIN_TOKEN not in str(problem)
    assert 0 < int(answer.headers["Retry-After"]) <= LIMITS["window_s"]
    assert "expbridge_console" not in {c.key for c in answer.cookies.values()}


@pytest.fixture
def limited(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(console_signin=LIMITS)


async def test_a_client_past_its_limit_is_refused_even_with_the_right_token(
    limited: Settings,
) -> None:
    async with running_ingress(limited) as ingress:
        for _ in range(LIMITS["per_client"]):
            assert (await try_token(ingress, "127.0.0.1", "wrong")).status == 401
        await assert_refused(await try_token(ingress, "127.0.0.1", "wrong"))
        await assert_refused(await try_token(ingress, "127.0.0.1", ADMIN_TOKEN))
        # Another address has its own count: it signs in.
        assert (await try_token(ingress, "127.0.0.2", ADMIN_TOKEN)).status == 303
    redis = aioredis.Redis.from_url(limited.redis_url or "")
    try:
        client_key = keys.console_signin_tries("client:127.0.0.1")
        assert 0 < await redis.ttl(client_key) <= LIMITS["window_s"]
        # The refused tries stopped at their client's count; the right one gave its place back.
        assert int(await redis.get(keys.console_signin_tries("all")) or 0) == 3
    finally:
        await redis.aclose()


async def test_many_clients_together_are_refused_past_the_overall_limit(
    limited: Settings,
) -> None:
    async with running_ingress(limited) as ingress:
        for n in range(LIMITS["overall"]):
            assert (await try_token(ingress, f"127.0.0.{10 + n}", "wrong")).status == 401
        await assert_refused(await try_token(ingress, "127.0.0.50", ADMIN_TOKEN))


async def test_right_tokens_do_not_use_up_the_limit(limited: Settings) -> None:
    async with running_ingress(limited) as ingress:
        for _ in range(LIMITS["overall"] + 2):
            assert (await try_token(ingress, "127.0.0.1", ADMIN_TOKEN)).status == 303
