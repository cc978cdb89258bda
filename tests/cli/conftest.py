"""Fixtures of the process-level tests: an OTLP receiver and the sandbox as its own process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from expbridge.cli.redis_server import free_port
from tests.cli.test_processes import base_env, spawn
from tests.otlp_receiver import OtlpReceiver


@pytest.fixture
async def receiver() -> AsyncIterator[OtlpReceiver]:
    receiver = await OtlpReceiver().start()
    yield receiver
    await receiver.close()


@pytest.fixture
async def sandbox_process(tmp_path: Path) -> AsyncIterator[str]:
    """The sandbox as its own process (`expbridge sandbox`), on a random loopback port."""
    port = free_port()
    log = tmp_path / "sandbox.log"
    process = spawn(["sandbox", "--port", str(port)], base_env(tmp_path), log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as session:
        while True:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                async with session.get(f"{url}/_sandbox/state") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
