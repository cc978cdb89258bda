"""The console in a real browser (Debian's chromium) against a real ingress, worker, Redis and
sandbox: sign in, follow an event to succeeded, replay dead ones from the pages, and the
refusals (wrong token, no CSRF token, no session). Saves a screenshot of each page for the docs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.async_api import expect

from expbridge.config.loading import load_config
from expbridge.config.settings import Settings
from expbridge.events.record import utcnow
from expbridge.workers.rules.schedule import evaluate_scheduled_rules
from expbridge.workers.worker import worker_deps
from tests.conftest import ADMIN_TOKEN, running_ingress
from tests.helpers import sandbox_call, seed_experiment, seed_sandbox, start_event
from tests.service.console.browser import (
    accept,
    chromium,
    running_worker,
    shot,
    sign_in,
    status_of,
    until_status,
)

pytestmark = pytest.mark.browser
RULES = {
    "rules": [
        {
            "name": "pause-on-refund-spike",
            "trigger": {
                "event": "goal.threshold_reached",
                "goal_id": "refunds",
                "metric": "rate",
                "value_at_least": 0.05,
            },
            "when": {"min_runtime_days": 1},
            "actions": [{"event": "experiment.pause"}],
        },
        {
            "name": "stop-when-significant",
            "trigger": {"schedule": "1h"},
            "targets": ["qonversion:exp_live"],
            "when": {
                "min_runtime_days": 7,
                "min_visitors_per_variation": 500,
                "chance_to_win_at_least": 0.95,
            },
            "actions": [{"event": "experiment.stop"}],
            "dry_run": True,
        },
    ]
}


@pytest.fixture
def console_settings(make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(RULES))
    return make_settings(config=path)


async def test_operator_follows_events_and_replays_dead_ones(
    console_settings: Settings, sandbox: Any
) -> None:
    settings = console_settings
    started = (utcnow() - timedelta(days=10)).isoformat()
    # A running experiment whose variant converts better: the schedule rule's statistics.
    experiment = {
        "id": "exp_live",
        "name": "Paywall",
        "alias_id": "paywall",
        "status": "active",
        "started_at": started,
    }
    groups = [
        {
            "id": "exp_live_a",
            "experiment_id": "exp_live",
            "name": "A",
            "is_control": True,
            "weight": 50,
        },
        {"id": "exp_live_b", "experiment_id": "exp_live", "name": "B", "weight": 50},
    ]
    await seed_sandbox(sandbox.url, qonversion={"experiments": [experiment], "groups": groups})
    counts = {
        "exp_live_a": {"users": 1000, "conversions": 100},
        "exp_live_b": {"users": 1010, "conversions": 140},
    }
    report = {"provider": "qonversion", "experiment_id": "exp_live", "groups": counts}
    await sandbox_call(sandbox.url, "POST", "/_sandbox/reports", report)
    async with (
        running_ingress(settings, load_config(settings)) as ingress,
        running_worker(settings),
        chromium() as browser,
    ):
        page = await browser.new_page()
        await sign_in(page, ingress, token="not-the-admin-token")
        await expect(page.get_by_role("alert")).to_have_text("invalid")
        await expect(page).to_have_url(ingress.url("/ui/signin"))
        await shot(page, "signin")
        await page.fill("#token", ADMIN_TOKEN)
        await page.click("button[type=submit]")
        await expect(page).to_have_url(ingress.url("/ui/events"))

        # Find an event by its id and follow it (the page refreshes itself) to succeeded.
        ok = await accept(ingress, start_event("exp_live"))
        await page.fill("#id", ok)
        await page.click("form.search button")
        await expect(page).to_have_url(ingress.url(f"/ui/events/{ok}"))
        await expect(page.locator("#status")).to_contain_text("succeeded")
        await expect(page.locator(".timeline")).to_contain_text(f"{ok}.1.qonversion.set_status")

        # One that dies (its experiment is not there yet), found by filtering, replayed.
        dead = await accept(ingress, start_event("exp_late"))
        await until_status(ingress, dead, "dead")
        await page.goto(ingress.url("/ui/events"))
        await page.select_option("select[name=status]", "dead")
        await page.click("form.filters button")
        await page.click(f"text={dead}")
        await expect(page.locator("#status")).to_contain_text("dead")
        await seed_experiment(sandbox.url, "exp_late")
        await page.click("text=Replay")
        await expect(page.get_by_role("status")).to_contain_text("Replayed")
        await expect(page.locator("#status")).to_contain_text("succeeded")
        assert await status_of(ingress, dead) == "succeeded"

        # A rule's action: its page names the rule, the condition and the rule's evaluations.
        threshold = {
            "type": "goal.threshold_reached",
            "data": {
                "target": {"provider": "qonversion", "experiment_id": "exp_live"},
                "goal_id": "refunds",
                "metric": "rate",
                "value": 0.08,
            },
        }
        await accept(ingress, threshold)
        await page.goto(ingress.url("/ui/events?source=rules&type=experiment.pause"))
        link = page.locator("table.events tbody a").first
        for _ in range(100):
            if await link.count():
                break
            await asyncio.sleep(0.1)
            await page.reload()
        await link.click()
        await expect(page.locator("#status")).to_contain_text("succeeded")
        await expect(page.locator("main")).to_contain_text("pause-on-refund-spike")
        await expect(page.locator("table.evaluations")).to_contain_text("fired")
        await shot(page, "event", full_page=True)

        # Dead letters: pick all on the page and replay them; the outcome is shown.
        lost = [await accept(ingress, start_event(f"exp_gone_{n}")) for n in range(3)]
        for event_id in lost:
            await until_status(ingress, event_id, "dead")
        await page.goto(ingress.url("/ui/dead-letters"))
        await expect(page.locator("table.dead tbody tr")).to_have_count(3)
        await shot(page, "dead-letters")
        for n in range(3):
            await seed_experiment(sandbox.url, f"exp_gone_{n}")
        await page.check("input[data-select-all]")
        await page.click("text=Replay selected")
        await expect(page.locator("#outcome")).to_contain_text("Replayed 3, skipped 0")
        for event_id in lost:
            await until_status(ingress, event_id, "succeeded")

        async with worker_deps(settings) as deps:
            await evaluate_scheduled_rules(deps)
        await page.goto(ingress.url("/ui/rules?rule=stop-when-significant"))
        await expect(page.locator("table.rules")).to_contain_text("dry run")
        await expect(page.locator("table.evaluations")).to_contain_text("stop-when-significant")
        # The dry run's statistics: a table of the variations with their p-values.
        await expect(page.locator("table.evaluations table.nested")).to_contain_text("p value")
        await shot(page, "rules", full_page=True)
        await page.goto(ingress.url("/ui/providers"))
        await expect(page.locator("#provider-qonversion")).to_contain_text("closed")
        await shot(page, "providers")
        await page.goto(ingress.url("/ui/events"))
        await shot(page, "events")

        # A phone's width: nothing wider than the screen (tables scroll inside their box).
        await page.set_viewport_size({"width": 390, "height": 780})
        for path in ("/ui/events", f"/ui/events/{ok}", "/ui/dead-letters", "/ui/providers"):
            await page.goto(ingress.url(path))
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, path
        await page.goto(ingress.url("/ui/events"))
        await shot(page, "events-narrow")


async def test_refusals_in_the_browser(settings: Settings, sandbox: Any) -> None:
    async with (
        running_ingress(settings) as ingress,
        running_worker(settings),
        chromium() as browser,
    ):
        dead = await accept(ingress, start_event("exp_absent"))
        await until_status(ingress, dead, "dead")
        page = await browser.new_page()
        # No page without a session: every one leads to the sign-in form.
        for path in (
            "/ui/events",
            f"/ui/events/{dead}",
            "/ui/dead-letters",
            "/ui/rules",
            "/ui/providers",
        ):
            await page.goto(ingress.url(path))
            await expect(page).to_have_url(ingress.url("/ui/signin"))
        answer = await page.request.post(ingress.url(f"/ui/events/{dead}/replay"))
        assert answer.status == 401

        await sign_in(page, ingress)
        await expect(page).to_have_url(ingress.url("/ui/events"))
        # The replay form without its CSRF token (as a forged form would be): refused.
        await page.goto(ingress.url(f"/ui/events/{dead}"))
        await page.evaluate(
            "document.querySelectorAll('.actions input[name=csrf]').forEach(e => e.remove())"
        )
        await page.click("text=Replay")
        await expect(page.get_by_role("alert")).to_contain_text("CSRF")
        assert await status_of(ingress, dead) == "dead"

        # Signed out: the pages are closed again.
        await page.goto(ingress.url("/ui/events"))
        await page.click("text=Sign out")
        await expect(page).to_have_url(ingress.url("/ui/signin"))
        await page.goto(ingress.url("/ui/dead-letters"))
        await expect(page).to_have_url(ingress.url("/ui/signin"))
