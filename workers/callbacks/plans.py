"""The plan of a `callback.deliver` event: one step, posting the callback to its subscriber,
paced and circuit-broken per destination host like any provider."""

from __future__ import annotations

from typing import Any

from expbridge.events.callbacks import CallbackData, destination
from expbridge.events.record import EventRecord
from expbridge.workers.deps import JobDeps
from expbridge.workers.plans.steps import PlannedStep
from expbridge.workers.providers.http import Outcome

STEP = "callback.post"


def plan_callback(data: CallbackData) -> PlannedStep:
    async def run(deps: JobDeps, record: EventRecord, key: str) -> Outcome[Any]:
        return await deps.clients.callbacks.send(data)

    return PlannedStep(STEP, destination(data.url), run)
