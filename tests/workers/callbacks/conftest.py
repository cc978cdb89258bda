"""A real callback receiver process on loopback, and settings that subscribe a source to it."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from expbridge.config.settings import Settings
from tests.conftest import OTHER_TOKEN, SOURCE_TOKEN


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


class Receiver:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.url + path, json=body) as response,
        ):
            return await response.json()

    async def received(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await self._call("GET", "/received")
        return rows

    async def behave(self, **behaviour: Any) -> None:
        await self._call("POST", "/behave", behaviour)


async def start_receiver(*secrets: str) -> Receiver:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.callback_receiver",
        *secrets,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    port = int((await asyncio.wait_for(process.stdout.readline(), 15)).decode())
    return Receiver(process, port)


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Any]]:
    started: list[Receiver] = []

    async def start(*secrets: str) -> Receiver:
        receiver = await start_receiver(*secrets)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.process.kill()
        await receiver.process.wait()


@pytest.fixture
def subscribed(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """Settings where the source "growth" has the given callback subscriptions."""

    def make(*subscriptions: dict[str, Any], allow_loopback: bool = True, **extra: Any) -> Settings:
        growth = {"token": SOURCE_TOKEN, "callbacks": list(subscriptions)}
        return make_settings(
            sources={"growth": growth, "other": {"token": OTHER_TOKEN}},
            callbacks={"allow_loopback": allow_loopback, "timeout_s": 1.0},
            **extra,
        )

    return make
