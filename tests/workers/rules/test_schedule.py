"""Schedule rules end to end: the evaluation pass reads sandbox experiments and reports over HTTP,
stops what is significant once the guardrails hold, records why it left the others alone, and a
dry run changes nothing upstream."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from expbridge.cli.worker_runner import stop_worker
from expbridge.config.loading import load_config
from expbridge.config.settings import Settings
from expbridge.workers.rules.schedule import evaluate_scheduled_rules
from expbridge.workers.worker import create_worker, worker_deps
from tests.conftest import ADMIN_TOKEN, Ingress, running_ingress
from tests.helpers import (
    qonversion_experiment,
    queued_jobs,
    run_worker_burst,
    sandbox_requests,
    sandbox_state,
    seed_sandbox,
)
from tests.workers.providers.convert.seed import EXPERIENCE, GOAL, PROJECT
from tests.workers.rules.reports import days_ago
from tests.workers.rules.reports import seed_reports as seed_rule_reports

WHEN = {"min_runtime_days": 7, "min_visitors_per_variation": 500, "chance_to_win_at_least": 0.95}
RULES = [
    {
        "name": "stop-winners",
        "trigger": {"schedule": "1h"},
        "targets": ["q-win", "qonversion:exp_flat", "qonversion:exp_young", "qonversion:exp_small"],
        "when": WHEN,
        "actions": [{"event": "experiment.stop"}],
    },
    {
        "name": "stop-convert",
        "trigger": {"schedule": "1h"},
        "targets": [f"convert:{PROJECT}/{EXPERIENCE}"],
        "goal_id": GOAL,
        "when": {"min_runtime_days": 7, "confidence_at_least": 0.95},
        "actions": [{"event": "experiment.stop"}],
    },
    {
        "name": "preview",
        "trigger": {"schedule": "1h"},
        "targets": ["qonversion:exp_dry"],
        "when": WHEN,
        "actions": [{"event": "experiment.stop"}],
        "dry_run": True,
    },
]
# (days running, (control users, conversions), (variant users, conversions))
QONVERSION = {
    "exp_win": (10, (1000, 100), (1000, 130)),
    "exp_flat": (10, (1000, 100), (1000, 102)),
    "exp_young": (2, (1000, 100), (1000, 130)),
    "exp_small": (10, (200, 20), (200, 45)),
    "exp_dry": (10, (1000, 100), (1000, 130)),
}


async def seed_reports(sandbox_url: str) -> None:
    groups = {eid: (days, (50, 50), a, b) for eid, (days, a, b) in QONVERSION.items()}
    await seed_rule_reports(sandbox_url, groups, convert=((2000, 200), (2000, 250)))


@pytest.fixture
async def setup(
    make_settings: Callable[..., Settings], tmp_path: Path, sandbox: Any
) -> AsyncIterator[tuple[Ingress, Settings]]:
    path = tmp_path / "rules.yaml"
    content = {
        "targets": {"q-win": {"provider": "qonversion", "experiment_id": "exp_win"}},
        "rules": RULES,
    }
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    settings = make_settings(config=path)
    await seed_reports(sandbox.url)
    async with running_ingress(settings, load_config(settings)) as ingress:
        yield ingress, settings


async def evaluate_once(settings: Settings) -> dict[tuple[str, str], Any]:
    async with worker_deps(settings) as deps:
        evaluations = await evaluate_scheduled_rules(deps, only_due=False)
    return {(e.rule, e.target): e for e in evaluations}


async def test_scheduled_rules_stop_what_is_significant_and_say_why_not(
    setup: tuple[Ingress, Settings], sandbox: Any
) -> None:
    ingress, settings = setup
    found = await evaluate_once(settings)

    win = found[("stop-winners", "qonversion:exp_win")]
    assert (win.outcome, win.condition) == ("fired", "significant")
    assert win.reasons[:2] == [
        "ran 10.00 days (min_runtime_days 7)",
        "every variation has at least 500 visitors",
    ]
    assert win.reasons[2].startswith("B reached chance to win 0.98")
    not_met = {
        target: found[("stop-winners", target)]
        for target in ("qonversion:exp_flat", "qonversion:exp_young", "qonversion:exp_small")
    }
    assert all(e.outcome == "not_met" and e.events == [] for e in not_met.values())
    assert (
        not_met["qonversion:exp_flat"]
        .reasons[-1]
        .startswith("not significant yet: best chance to win 0.55")
    )
    assert not_met["qonversion:exp_young"].reasons == ["ran 2.00 days, under min_runtime_days 7"]
    assert not_met["qonversion:exp_small"].reasons[-1] == (
        "A has 200 visitors, under min_visitors_per_variation 500"
    )
    converted = found[("stop-convert", f"convert:{PROJECT}/{EXPERIENCE}")]
    assert converted.outcome == "fired" and converted.reasons[-1].startswith(
        "B reached confidence 0.98"
    )
    dry = found[("preview", "qonversion:exp_dry")]
    assert (dry.outcome, dry.dry_run, dry.condition, dry.events) == (
        "dry_run",
        True,
        "significant",
        [],
    )
    assert await queued_jobs(settings) == 2  # exp_win's stop and the Convert stop, nothing else

    await run_worker_burst(settings)
    assert (await qonversion_experiment(sandbox.url, "exp_win"))["status"] == "finished"
    for eid in ("exp_flat", "exp_young", "exp_small", "exp_dry"):
        assert (await qonversion_experiment(sandbox.url, eid))["status"] == "active"
        assert await sandbox_requests(sandbox.url, f"/qonversion/v4/experiments/{eid}/status") == []
    experience = (await sandbox_state(sandbox.url))["convert"]["experiences"][EXPERIENCE]
    assert experience["experience_status"] == "completed"
    stop = await ingress.get_record(win.events[0], token=ADMIN_TOKEN)
    assert (stop["type"], stop["source"], stop["status"]) == (
        "experiment.stop",
        "rules",
        "succeeded",
    )
    assert stop["cause"]["rule"] == "stop-winners" and stop["cause"]["condition"] == "significant"
    assert stop["cause"]["reason"] == "; ".join(win.reasons)

    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    url = ingress.url("/v1/rules/evaluations?outcome=dry_run")
    async with ingress.session.get(url, headers=headers) as response:
        assert response.status == 200
        [listed] = (await response.json())["data"]
    assert (listed["rule"], listed["target"], listed["outcome"]) == (
        "preview",
        "qonversion:exp_dry",
        "dry_run",
    )


async def test_fired_at_most_once_across_restarts_and_due_once_per_interval(
    setup: tuple[Ingress, Settings], sandbox: Any
) -> None:
    _, settings = setup
    first = await evaluate_once(settings)
    await run_worker_burst(settings)
    # Someone starts the experiment again; a new worker process evaluates (a "restart").
    await seed_sandbox(
        sandbox.url,
        qonversion={
            "experiments": [
                {
                    "id": "exp_win",
                    "name": "exp_win",
                    "status": "active",
                    "started_at": days_ago(10).isoformat(),
                },
            ]
        },
    )
    second = await evaluate_once(settings)
    again = second[("stop-winners", "qonversion:exp_win")]
    assert again.outcome == "already_fired"
    assert again.events == first[("stop-winners", "qonversion:exp_win")].events
    assert await queued_jobs(settings) == 0
    assert (
        len(await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/exp_win/status")) == 1
    )

    async with worker_deps(settings) as deps:
        started = time.monotonic()
        due = await evaluate_scheduled_rules(deps)
        assert {e.rule for e in due} == {"stop-winners", "stop-convert", "preview"}
        assert await evaluate_scheduled_rules(deps) == []  # not due again within the hour
        assert time.monotonic() - started < 5


async def test_a_running_worker_evaluates_due_rules_on_its_cron_tick(
    setup: tuple[Ingress, Settings], sandbox: Any
) -> None:
    _, settings = setup
    worker = create_worker(settings)
    assert [job.name for job in worker.cron_jobs] == ["rules_tick"]
    running = asyncio.create_task(worker.async_run())
    try:
        async with worker_deps(settings) as deps:
            for _ in range(100):
                if await deps.rule_log.recent(10, rule="stop-winners", outcome="fired"):
                    break
                await asyncio.sleep(0.05)
            [fired] = await deps.rule_log.recent(10, rule="stop-winners", outcome="fired")
        for _ in range(100):
            if (await qonversion_experiment(sandbox.url, "exp_win"))["status"] == "finished":
                break
            await asyncio.sleep(0.05)
        assert (await qonversion_experiment(sandbox.url, "exp_win"))["status"] == "finished"
    finally:
        await stop_worker(worker, running, wait_s=0)
    assert fired.trigger.startswith("schedule:")
    assert not create_worker(settings, burst=True).cron_jobs
