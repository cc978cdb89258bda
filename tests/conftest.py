"""Shared fixtures: one real redis-server per session, the sandbox and the ingress on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis as sync_redis
from aiohttp import web

from expbridge.cli.redis_server import RedisServer
from expbridge.config.file import FileConfig
from expbridge.config.loading import load_settings
from expbridge.config.settings import Settings
from expbridge.service.app import create_app
from expbridge.service.http_server import listening

SOURCE_TOKEN = "tok_growth_0123456789"
OTHER_TOKEN = "tok_other_0123456789"
ADMIN_TOKEN = "admin_0123456789"
SANDBOX_KEY = "test_sk_sandbox"
QUEUE = "expbridge:test-queue"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    client = sync_redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
async def sandbox() -> AsyncIterator[Any]:
    from expbridge.sandbox.runner import start_sandbox

    server = await start_sandbox()
    yield server
    await server.close()


@pytest.fixture
def make_settings(redis_url: str, sandbox: Any, tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "redis_url": redis_url,
            "sources": {"growth": {"token": SOURCE_TOKEN}, "other": {"token": OTHER_TOKEN}},
            "admin_token": ADMIN_TOKEN,
            "qonversion": {"secret_key": SANDBOX_KEY, "base_url": f"{sandbox.url}/qonversion/v4"},
            "sandbox_url": sandbox.url,
            "queue_name": QUEUE,
            "data_dir": tmp_path / "data",
            "log_format": "json",
            # metrics_port 0: test workers serve no metrics unless a test gives them a port.
            "worker": {
                "poll_delay_s": 0.01,
                "upstream_timeout_s": 2.0,
                "job_timeout_s": 6,
                "metrics_port": 0,
            },
            "retry": {"base_delay_s": 0.05, "max_delay_s": 0.5, "rate_limited_floor_s": 0.1},
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                base[key] = {**base[key], **value}
            else:
                base[key] = value
        return load_settings(**base)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


class Ingress:
    """The real ingress app behind its real HTTP server on loopback, with a client session."""

    def __init__(self, app: web.Application, base_url: str, session: aiohttp.ClientSession):
        self.app = app
        self.base_url = base_url
        self.session = session

    def url(self, path: str) -> str:
        return self.base_url + path

    async def post_event(
        self, body: Any, token: str | None = SOURCE_TOKEN, **kwargs: Any
    ) -> aiohttp.ClientResponse:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers.setdefault("Authorization", f"Bearer {token}")
        if isinstance(body, dict | list):
            kwargs["json"] = body
        else:
            kwargs["data"] = body
            headers.setdefault("Content-Type", "application/json")
        return await self.session.post(self.url("/v1/events"), headers=headers, **kwargs)

    async def get_record(self, event_id: str, token: str = SOURCE_TOKEN) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with self.session.get(self.url(f"/v1/events/{event_id}"), headers=headers) as r:
            assert r.status == 200, await r.text()
            body: dict[str, Any] = await r.json()
            return body


@contextlib.asynccontextmanager
async def running_ingress(
    settings: Settings, file_config: FileConfig | None = None
) -> AsyncIterator[Ingress]:
    """The real ingress (the server `expbridge serve` runs) on a free loopback port for as long
    as the block runs."""
    app = create_app(settings, file_config)
    async with (
        listening(app, settings.http, "127.0.0.1", 0, shutdown_timeout=1) as base_url,
        aiohttp.ClientSession() as session,
    ):
        yield Ingress(app, base_url, session)


@pytest.fixture
async def ingress(settings: Settings) -> AsyncIterator[Ingress]:
    async with running_ingress(settings) as ingress:
        yield ingress


@pytest.fixture
async def slack() -> AsyncIterator[Any]:
    """A local stand-in for Slack's hooks (tests/slack_standin.py) that records every post."""
    from tests.slack_standin import SlackStandIn

    stand_in = SlackStandIn()
    await stand_in.server.start_server()
    yield stand_in
    await stand_in.server.close()
