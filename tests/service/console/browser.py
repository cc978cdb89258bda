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
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from expbridge.cli.worker_runner import stop_worker
from expbridge.config.settings import Settings
from expbridge.workers.worker import create_worker
from tests.conftest import ADMIN_TOKEN, Ingress

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


async def accept(ingress: Ingress, event: dict[str, Any]) -> str:
    response = await ingress.post_event(event)
    assert response.status == 202, await response.text()
    event_id: str = (await response.json())["id"]
    return event_id


async def status_of(ingress: Ingress, event_id: str) -> str:
    status: str = (await ingress.get_record(event_id))["status"]
    return status


async def until_status(ingress: Ingress, event_id: str, wanted: str) -> None:
    for _ in range(400):  # 20 s: a loaded machine
        if await status_of(ingress, event_id) == wanted:
            return
        await asyncio.sleep(0.05)
    assert await status_of(ingress, event_id) == wanted


async def shot(page: Page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


async def sign_in(page: Page, ingress: Ingress, token: str = ADMIN_TOKEN) -> None:
    await page.goto(ingress.url("/ui/events"))
    await expect(page).to_have_url(ingress.url("/ui/signin"))
    await page.fill("#token", token)
    await page.click("button[type=submit]")
