"""An event retried once, followed in the browser: its timeline shows both attempts — the one
that failed (upstream 503, the error, the next attempt time) and the step that succeeded (its
upstream status, idempotency key and duration). Saves the page for the docs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import expect

from expbridge.config.settings import Settings
from tests.conftest import running_ingress
from tests.helpers import add_fault, seed_experiment, start_event
from tests.service.console.browser import (
    accept,
    chromium,
    running_worker,
    shot,
    sign_in,
    until_status,
)

pytestmark = pytest.mark.browser
STATUS_PATH = "/qonversion/v4/experiments/exp_flaky/status"


async def test_a_retried_event_shows_both_attempts(
    make_settings: Callable[..., Settings], sandbox: Any
) -> None:
    # Retried after 3-6 s (jittered): long enough to see it retrying, with its next attempt.
    settings = make_settings(retry={"base_delay_s": 6.0, "max_delay_s": 6.0})
    await seed_experiment(sandbox.url, "exp_flaky")
    await add_fault(sandbox.url, path_prefix=STATUS_PATH, count=1, status=503)
    async with (
        running_ingress(settings) as ingress,
        running_worker(settings),
        chromium() as browser,
    ):
        page = await browser.new_page()
        await sign_in(page, ingress)
        await expect(page).to_have_url(ingress.url("/ui/events"))
        event_id = await accept(ingress, start_event("exp_flaky"))
        await until_status(ingress, event_id, "retrying")
        await page.goto(ingress.url(f"/ui/events/{event_id}"))
        timeline = page.locator(".timeline")
        # While it waits: the failed attempt, the next attempt, and a way to cancel.
        await expect(page.locator("#status")).to_contain_text("retrying")
        await expect(timeline).to_contain_text("attempt 1 failed, retried")
        await expect(page.locator(".actions")).to_contain_text("Cancel")
        # The page refreshes itself until the second attempt has succeeded.
        await expect(page.locator("#status")).to_contain_text("succeeded", timeout=20_000)
        marks = await timeline.locator("li .what b").all_inner_texts()
        assert marks == [
            "received",
            "attempt 1 failed, retried",
            "step qonversion.set_status",
            "succeeded",
        ]
        failed = timeline.locator("li", has_text="attempt 1 failed, retried")
        await expect(failed).to_contain_text("503")
        await expect(failed).to_contain_text("Simulated upstream error 503")
        await expect(failed).to_contain_text("next attempt")
        step = timeline.locator("li", has_text="step qonversion.set_status")
        await expect(step).to_contain_text("200")
        await expect(step).to_contain_text(f"{event_id}.1.qonversion.set_status")
        await expect(step).to_contain_text("duration")
        end = timeline.locator("li", has_text="succeeded").last
        await expect(end).to_contain_text("2")  # attempts
        await expect(page.locator(".actions")).not_to_contain_text("Cancel")
        await shot(page, "event-retried", full_page=True)
