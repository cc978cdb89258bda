"""The plan of a `callback.deliver` event: one step, posting the callback to its subscriber,
paced and circuit-broken per destination host like any provider."""

from __future__ import annotations

from typing import Any

from expbridge.events.callbacks import CallbackData, destination
from expbridge.events.event_data import EventData
from expbridge.events.record import EventRecord
from expbridge.workers.clients import ProviderClients
from expbridge.workers.plans.steps import PlannedStep, single
from expbridge.workers.providers.http import Outcome

STEP = "callback.post"


def plan_callback(data: EventData | CallbackData) -> list[PlannedStep]:
    assert isinstance(data, CallbackData)

    async def run(clients: ProviderClients, record: EventRecord, key: str) -> Outcome[Any]:
        return await clients.callbacks.send(data)

    return single(STEP, destination(data.url), run)
