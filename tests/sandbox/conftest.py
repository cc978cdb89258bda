"""Each test gets its own sandbox on a free loopback port and an HTTP session."""

from collections.abc import AsyncIterator

import aiohttp
import pytest

from expbridge.sandbox.config import SandboxConfig
from expbridge.sandbox.runner import SandboxServer, start_sandbox
from tests.sandbox.calls import (
    ACCOUNT_ID,
    APP_ID,
    APP_SECRET,
    OTHER_QONVERSION_KEY,
    QONVERSION_KEY,
    Convert,
    Qonversion,
)

CONFIG = SandboxConfig(
    qonversion_keys={QONVERSION_KEY, OTHER_QONVERSION_KEY},
    convert_app_id=APP_ID,
    convert_app_secret=APP_SECRET,
    convert_account_id=ACCOUNT_ID,
    convert_max_expires_ahead_s=600,
    seed=7,
)


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with await start_sandbox(CONFIG) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def qon(session: aiohttp.ClientSession, server: SandboxServer) -> Qonversion:
    return Qonversion(session, server.url)


@pytest.fixture
def cv1(session: aiohttp.ClientSession, server: SandboxServer) -> Convert:
    return Convert(session, server.url, "v1")


@pytest.fixture
def cv2(session: aiohttp.ClientSession, server: SandboxServer) -> Convert:
    return Convert(session, server.url, "v2")
