"""Cancels racing a running worker: every event ends succeeded or cancelled (nothing stuck,
no line jammed), a cancelled event never reached the provider, and each target's upstream
order is still the accepted order."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from expbridge.config.settings import Settings
from tests.conftest import Ingress
from tests.helpers import (
    accept_event,
    queued_jobs,
    running_worker,
    sandbox_requests,
    seed_experiment,
    wait_status,
)

TARGETS = 6
PER_TARGET = 8


def rename_event(experiment_id: str, n: int) -> dict[str, Any]:
    target = {"provider": "qonversion", "experiment_id": experiment_id}
    return {"type": "experiment.update", "data": {"target": target, "changes": {"name": f"v{n}"}}}


async def test_cancels_racing_a_worker_leave_no_line_jammed(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    rng = random.Random(16)
    accepted: dict[str, list[str]] = {}
    for t in range(TARGETS):
        await seed_experiment(sandbox.url, f"exp_race{t}", status="draft")
    async with running_worker(settings):
        for t in range(TARGETS):
            # Renames: any of them may be cancelled and the rest still make sense upstream.
            accepted[f"exp_race{t}"] = [
                await accept_event(ingress, rename_event(f"exp_race{t}", n))
                for n in range(PER_TARGET)
            ]
        everything = [i for ids in accepted.values() for i in ids]
        chosen = rng.sample(everything, len(everything) // 2)
        answers = await asyncio.gather(*(cancel_once(ingress, i) for i in chosen))
        records = {
            i: await wait_status(ingress, i, "succeeded", "cancelled", "dead") for i in everything
        }
    cancelled = {i for i, r in records.items() if r["status"] == "cancelled"}
    assert {i for i, status in zip(chosen, answers, strict=True) if status == 200} == cancelled
    assert all(r["status"] in ("succeeded", "cancelled") for r in records.values()), records
    assert all(status in (200, 409) for status in answers)
    assert cancelled, "some cancels should have won the race"
    for experiment_id, ids in accepted.items():
        calls = await sandbox_requests(sandbox.url, f"/qonversion/v4/experiments/{experiment_id}")
        upstream = [call["idempotency_key"].split(".")[0] for call in calls]
        assert not cancelled & set(upstream)
        assert upstream == [i for i in ids if i not in cancelled]  # accepted order, no repeats
    assert await queued_jobs(settings) == 0


async def cancel_once(ingress: Ingress, event_id: str) -> int:
    url = ingress.url(f"/v1/events/{event_id}/cancel")
    headers = {"Authorization": "Bearer tok_growth_0123456789"}
    async with ingress.session.post(url, headers=headers) as response:
        return response.status
