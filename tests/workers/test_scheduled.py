"""Scheduled events with real worker processes and the sandbox: a scheduled stop runs at its
time and not before, and blocks nothing meanwhile; it survives a restart of the workers; with
two workers every scheduled event runs once; a cancelled one never runs."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from expbridge.config.settings import Settings
from tests.conftest import Ingress
from tests.helpers import (
    accept_event,
    qonversion_experiment,
    sandbox_requests,
    seed_experiment,
    start_event,
    wait_status,
)
from tests.workers.test_chaos import Workers, worker_env

STATUS = "/qonversion/v4/experiments/{}/status"


def at(delta_s: float) -> tuple[str, float]:
    """An RFC 3339 time `delta_s` from now (ms precision), and the same as a unix time."""
    moment = datetime.now(UTC) + timedelta(seconds=delta_s)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"), moment.timestamp()


def event_of(experiment_id: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {**start_event(experiment_id), "type": f"experiment.{kind}", **extra}


async def upstream_times(sandbox_url: str, experiment_id: str) -> dict[str, float]:
    """Event id → when its status request reached the sandbox (unix time)."""
    calls = await sandbox_requests(sandbox_url, STATUS.format(experiment_id))
    return {
        call["idempotency_key"].split(".")[0]: datetime.fromisoformat(call["time"]).timestamp()
        for call in calls
    }


@pytest.mark.slow
async def test_a_scheduled_stop_runs_at_its_time_and_blocks_nothing_before(
    ingress: Ingress, settings: Settings, sandbox: Any, tmp_path: Path
) -> None:
    await seed_experiment(sandbox.url, "exp_s", status="draft")
    workers = Workers(worker_env(settings, sandbox.url), tmp_path)
    workers.spawn()
    try:
        when, due = at(4)
        stop = await accept_event(ingress, event_of("exp_s", "stop", not_before=when))
        # Later events of the same target run now: the scheduled stop is not in their line.
        start = await accept_event(ingress, event_of("exp_s", "start"))
        pause = await accept_event(ingress, event_of("exp_s", "pause"))
        assert (await wait_status(ingress, pause, "succeeded", "dead"))["status"] == "succeeded"
        assert (await ingress.get_record(start))["status"] == "succeeded"
        assert (await ingress.get_record(stop))["status"] == "scheduled"
        assert time.time() < due
        record = await wait_status(ingress, stop, "succeeded", "dead", timeout_s=15)
    finally:
        workers.stop_all()
    assert record["status"] == "succeeded", record
    ran = (await upstream_times(sandbox.url, "exp_s"))[stop]
    assert due <= ran < due + 1.0, (due, ran)  # at its time, within a second, not before
    assert (await qonversion_experiment(sandbox.url, "exp_s"))["status"] == "finished"


@pytest.mark.slow
async def test_scheduled_events_survive_a_restart_and_run_once_with_two_workers(
    ingress: Ingress, settings: Settings, sandbox: Any, tmp_path: Path
) -> None:
    targets = [f"exp_two{n}" for n in range(6)]
    for experiment_id in targets:
        await seed_experiment(sandbox.url, experiment_id, status="draft")
    env = worker_env(settings, sandbox.url)
    first = Workers(env, tmp_path / "first")
    (tmp_path / "first").mkdir()
    first.spawn()
    when, due = at(3)
    scheduled = {
        experiment_id: [
            await accept_event(ingress, event_of(experiment_id, "start", not_before=when)),
            await accept_event(ingress, event_of(experiment_id, "pause", not_before=when)),
        ]
        for experiment_id in targets
    }
    doomed = await accept_event(ingress, event_of("exp_two0", "stop", not_before=when))
    await asyncio.sleep(0.5)
    first.stop_all()  # the workers go away while everything is still scheduled

    status, body = await cancel(ingress, doomed)
    assert (status, body["status"]) == (200, "cancelled")
    await asyncio.sleep(max(due - time.time(), 0) + 0.5)
    for ids in scheduled.values():  # due, but no worker: still scheduled, nothing lost
        assert {(await ingress.get_record(i))["status"] for i in ids} == {"scheduled"}

    second = Workers(env, tmp_path / "second")
    (tmp_path / "second").mkdir()
    second.spawn()
    second.spawn()
    try:
        for ids in scheduled.values():
            for event_id in ids:
                record = await wait_status(ingress, event_id, "succeeded", "dead", timeout_s=20)
                assert record["status"] == "succeeded", record
    finally:
        second.stop_all()
    for experiment_id, ids in scheduled.items():
        calls = await sandbox_requests(sandbox.url, STATUS.format(experiment_id))
        # Each ran once, in accepted order (start, then pause), however many workers polled.
        assert [call["idempotency_key"].split(".")[0] for call in calls] == ids
    assert (await ingress.get_record(doomed))["status"] == "cancelled"
    assert (await qonversion_experiment(sandbox.url, "exp_two0"))["status"] == "paused"


async def cancel(ingress: Ingress, event_id: str) -> tuple[int, dict[str, Any]]:
    url = ingress.url(f"/v1/events/{event_id}/cancel")
    headers = {"Authorization": "Bearer tok_growth_0123456789"}
    async with ingress.session.post(url, headers=headers) as response:
        body: dict[str, Any] = await response.json()
        return response.status, body
