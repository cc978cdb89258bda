"""Debian's chromium driven by Playwright: never `playwright install`, always a fresh profile.

The browser tests run in their own make target (`make test-browser`, which .ci/run runs after
`make test`): without a browser they fail and say how to get one, never skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, async_playwright

from expbridge.cli.worker_runner import stop_worker
from expbridge.config.settings import Settings
from expbridge.workers.worker import create_worker

CHROMIUM = Path(os.environ.get("EXPBRIDGE_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# `make test-browser` keeps the screenshots for the docs (EXPBRIDGE_SCREENSHOTS=docs/screenshots);
# any other run saves them under the temporary directory, so the working tree stays clean.
SCREENSHOTS = Path(
    os.environ.get("EXPBRIDGE_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "expbridge-console-screenshots"
)


def require_chromium() -> Path:
    if not CHROMIUM.is_file():
        where = "CI (CI=true)" if os.environ.get("CI") == "true" else "this machine"
        pytest.fail(
            f"the console's browser tests need Chromium at {CHROMIUM} and {where} has none: "
            "apt-get install -y chromium (or set EXPBRIDGE_TEST_CHROMIUM to a Chromium binary)",
            pytrace=False,
        )
    return CHROMIUM


@contextlib.asynccontextmanager
async def chromium(width: int = 1100, height: int = 760) -> AsyncIterator[BrowserContext]:
    executable = require_chromium()
    with tempfile.TemporaryDirectory(prefix="expbridge-chromium-") as profile:
        async with async_playwright() as playwright:
            # A persistent context is how Playwright takes --user-data-dir: a fresh one each run.
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(executable),
                headless=True,
                args=ARGS,
                viewport={"width": width, "height": height},
                offline=False,
            )
            context.set_default_timeout(20_000)
            try:
                yield context
            finally:
                await context.close()


@contextlib.asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[None]:
    """A real worker carrying events out in the background, as `expbridge worker` does."""
    worker = create_worker(settings)
    running = asyncio.create_task(worker.async_run())
    try:
        yield
    finally:
        await stop_worker(worker, running, wait_s=0)
