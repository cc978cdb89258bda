"""From an accepted event to its upstream steps.

Each step has a stable name; the step ledger in the status record makes sure a step recorded
done is never sent again, and the step's idempotency key goes with every mutating request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from events.catalog import (
    CATALOG,
    EventData,
    QonversionExperimentData,
    QonversionExperimentUpdateData,
)
from events.record import EventRecord
from workers.clients import ProviderClients
from workers.providers.http import Outcome

# (clients, the event's record, the step's idempotency key) -> upstream outcome
StepRun = Callable[[ProviderClients, EventRecord, str], Awaitable[Outcome[Any]]]


@dataclass(frozen=True)
class PlannedStep:
    name: str
    provider: str
    run: StepRun


class UnplannableEvent(Exception):
    """The worker cannot carry out this event: its record does not fit the contract."""


def _qonversion_status(data: EventData, status: str) -> list[PlannedStep]:
    assert isinstance(data, QonversionExperimentData)
    experiment_id = data.target.experiment_id

    async def run(clients: ProviderClients, _: EventRecord, key: str) -> Outcome[Any]:
        return await clients.qonversion.set_status(experiment_id, status, key)

    return [PlannedStep("qonversion.set_status", "qonversion", run)]


def _qonversion_update(data: EventData) -> list[PlannedStep]:
    assert isinstance(data, QonversionExperimentUpdateData)
    experiment_id = data.target.experiment_id
    body = data.changes.patch_body()

    async def run(clients: ProviderClients, _: EventRecord, key: str) -> Outcome[Any]:
        return await clients.qonversion.update_experiment(experiment_id, body, key)

    return [PlannedStep("qonversion.update_experiment", "qonversion", run)]


PLANS: dict[tuple[str, str], Callable[[EventData], list[PlannedStep]]] = {
    ("experiment.start", "qonversion"): lambda data: _qonversion_status(data, "active"),
    ("experiment.pause", "qonversion"): lambda data: _qonversion_status(data, "paused"),
    ("experiment.stop", "qonversion"): lambda data: _qonversion_status(data, "finished"),
    ("experiment.update", "qonversion"): _qonversion_update,
}


def plan_event(record: EventRecord) -> list[PlannedStep]:
    provider = str(record.data.get("target", {}).get("provider", ""))
    spec = CATALOG.get(record.type)
    builder = PLANS.get((record.type, provider))
    if spec is None or builder is None or provider not in spec.data_models:
        raise UnplannableEvent(f"no plan for {record.type} on {provider or 'no provider'}")
    try:
        data = spec.data_models[provider].model_validate(record.data)
    except ValidationError as error:
        raise UnplannableEvent(f"stored data no longer fits {record.type}: {error}") from None
    return builder(data)
