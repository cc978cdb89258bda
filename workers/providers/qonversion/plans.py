"""Qonversion v4 plans: each event type as its upstream steps."""

from __future__ import annotations

from typing import Any

from expbridge.events.event_data import EventData
from expbridge.events.qonversion import data as qv
from expbridge.events.qonversion.bodies import migrate_primary_metric
from expbridge.events.record import EventRecord
from expbridge.events.targets import QonversionTarget
from expbridge.workers.clients import ProviderClients
from expbridge.workers.plans.steps import (
    PlanBuilder,
    PlannedStep,
    after_uncertain_attempt,
    removal,
    single,
)
from expbridge.workers.providers.errors import PermanentUpstreamError
from expbridge.workers.providers.http import Outcome
from expbridge.workers.providers.qonversion.responses import Experiment

PROVIDER = "qonversion"


def _experiment_id(data: EventData) -> str:
    assert isinstance(data.target, QonversionTarget) and data.target.experiment_id
    return data.target.experiment_id


def _same(sent: Any, seen: Any) -> bool:
    if sent is None:
        return seen in (None, "", False)  # a null reads back as the field's empty value
    if isinstance(sent, int | float) and isinstance(seen, int | float):
        return float(sent) == float(seen)
    return bool(sent == seen)


def differences(body: dict[str, Any], existing: Experiment) -> list[str]:
    """The fields of a create body that the existing experiment does not have."""
    seen = existing.model_dump(mode="json")
    seen["primary_metric"] = migrate_primary_metric(seen.get("primary_metric"))
    return sorted(name for name, value in body.items() if not _same(value, seen.get(name)))


def create(data: EventData) -> list[PlannedStep]:
    assert isinstance(data, qv.QonversionExperimentCreateData)
    body = data.experiment.body()
    alias_id = data.experiment.alias_id

    async def run(clients: ProviderClients, _: EventRecord, key: str) -> Outcome[Any]:
        try:
            return await clients.qonversion.create_experiment(body, key)
        except PermanentUpstreamError as error:
            if error.status != 409:
                raise
            # alias_id is unique: an earlier attempt (or someone else) made it. Ours if it
            # matches what we asked for.
            existing = await clients.qonversion.find_by_alias(alias_id)
            if existing is None:
                raise
            mismatch = differences(body, existing)
            if mismatch:
                raise PermanentUpstreamError(
                    PROVIDER,
                    f"alias_id {alias_id!r} belongs to experiment {existing.id} whose "
                    f"{', '.join(mismatch)} differ from the event's",
                    status=409,
                    code=error.code,
                ) from error
            return Outcome(200, existing)

    return single("qonversion.create_experiment", PROVIDER, run)


def update(data: EventData) -> list[PlannedStep]:
    assert isinstance(data, qv.QonversionExperimentUpdateData)
    experiment_id, body = _experiment_id(data), data.changes.patch_body()

    async def run(clients: ProviderClients, _: EventRecord, key: str) -> Outcome[Any]:
        return await clients.qonversion.update_experiment(experiment_id, body, key)

    return single("qonversion.update_experiment", PROVIDER, run)


def set_status(status: str) -> PlanBuilder:
    def build(data: EventData) -> list[PlannedStep]:
        experiment_id = _experiment_id(data)

        async def run(clients: ProviderClients, _: EventRecord, key: str) -> Outcome[Any]:
            return await clients.qonversion.set_status(experiment_id, status, key)

        return single("qonversion.set_status", PROVIDER, run)

    return build


def delete(data: EventData) -> list[PlannedStep]:
    experiment_id = _experiment_id(data)
    return removal(
        "qonversion.delete_experiment",
        PROVIDER,
        lambda clients, key: clients.qonversion.delete_experiment(experiment_id, key),
    )


def add_group(data: EventData) -> list[PlannedStep]:
    assert isinstance(data, qv.QonversionVariationAddData)
    experiment_id, body = _experiment_id(data), data.variation.body()
    name = "qonversion.create_group"

    async def run(clients: ProviderClients, record: EventRecord, key: str) -> Outcome[Any]:
        if after_uncertain_attempt(record, name):
            groups = await clients.qonversion.list_groups(experiment_id)
            found = next((g for g in groups.value.data if g.name == data.variation.name), None)
            if found is not None:
                return Outcome(groups.status, found)
        return await clients.qonversion.create_group(experiment_id, body, key)

    return single(name, PROVIDER, run)


def attach_user(data: EventData) -> list[PlannedStep]:
    assert isinstance(data, qv.QonversionUserAttachData)
    experiment_id, user_id, group_id = _experiment_id(data), data.user_id, data.group_id

    async def run(clients: ProviderClients, _: EventRecord, key: str) -> Outcome[Any]:
        # Attaching again to the same group changes nothing: safe to repeat.
        return await clients.qonversion.attach_user(experiment_id, user_id, group_id, key)

    return single("qonversion.attach_user", PROVIDER, run)


def detach_user(data: EventData) -> list[PlannedStep]:
    assert isinstance(data, qv.QonversionUserDetachData)
    experiment_id, user_id = _experiment_id(data), data.user_id
    return removal(
        "qonversion.detach_user",
        PROVIDER,
        lambda clients, key: clients.qonversion.detach_user(experiment_id, user_id, key),
    )


def fetch_report(data: EventData) -> list[PlannedStep]:
    experiment_id = _experiment_id(data)

    async def run(clients: ProviderClients, _: EventRecord, __: str) -> Outcome[Any]:
        return await clients.qonversion.fetch_summary(experiment_id)

    return single("qonversion.fetch_summary", PROVIDER, run)


PLANS: dict[str, PlanBuilder] = {
    "experiment.create": create,
    "experiment.update": update,
    "experiment.start": set_status("active"),
    "experiment.pause": set_status("paused"),
    "experiment.stop": set_status("finished"),
    "experiment.delete": delete,
    "variation.add": add_group,
    "experiment.user.attach": attach_user,
    "experiment.user.detach": detach_user,
    "report.fetch": fetch_report,
}
