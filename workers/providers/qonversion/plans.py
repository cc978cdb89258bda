"""Qonversion v4 plans: each event type as its upstream steps."""

from __future__ import annotations

from typing import Any

from expbridge.events.qonversion import data as qv
from expbridge.events.qonversion.bodies import migrate_primary_metric
from expbridge.events.record import EventRecord
from expbridge.workers.deps import JobDeps
from expbridge.workers.plans.steps import Plan, PlannedStep, after_uncertain_attempt, removal
from expbridge.workers.providers.errors import PermanentUpstreamError
from expbridge.workers.providers.http import Outcome
from expbridge.workers.providers.qonversion.responses import Experiment

PROVIDER = "qonversion"


def _experiment_id(data: qv.QonversionExperimentData) -> str:
    # Required by the data model's target (QonversionExperimentTarget); typed optional.
    return str(data.target.experiment_id)


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


def create(data: qv.QonversionExperimentCreateData) -> PlannedStep:
    body = data.experiment.body()
    alias_id = data.experiment.alias_id

    async def run(deps: JobDeps, _: EventRecord, key: str) -> Outcome[Any]:
        try:
            return await deps.clients.qonversion.create_experiment(body, key)
        except PermanentUpstreamError as error:
            if error.status != 409:
                raise
            # alias_id is unique: an earlier attempt (or someone else) made it. Ours if it
            # matches what we asked for.
            existing = await deps.clients.qonversion.find_by_alias(alias_id)
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

    return PlannedStep("qonversion.create_experiment", PROVIDER, run)


def update(data: qv.QonversionExperimentUpdateData) -> PlannedStep:
    experiment_id, body = _experiment_id(data), data.changes.patch_body()

    async def run(deps: JobDeps, _: EventRecord, key: str) -> Outcome[Any]:
        return await deps.clients.qonversion.update_experiment(experiment_id, body, key)

    return PlannedStep("qonversion.update_experiment", PROVIDER, run)


def set_status(status: str) -> Plan[qv.QonversionExperimentData]:
    def build(data: qv.QonversionExperimentData) -> PlannedStep:
        experiment_id = _experiment_id(data)

        async def run(deps: JobDeps, _: EventRecord, key: str) -> Outcome[Any]:
            return await deps.clients.qonversion.set_status(experiment_id, status, key)

        return PlannedStep("qonversion.set_status", PROVIDER, run)

    return Plan(qv.QonversionExperimentData, build)


def delete(data: qv.QonversionExperimentData) -> PlannedStep:
    experiment_id = _experiment_id(data)
    return removal(
        "qonversion.delete_experiment",
        PROVIDER,
        lambda clients, key: clients.qonversion.delete_experiment(experiment_id, key),
    )


def add_group(data: qv.QonversionVariationAddData) -> PlannedStep:
    experiment_id, body = _experiment_id(data), data.variation.body()
    name = "qonversion.create_group"

    async def run(deps: JobDeps, record: EventRecord, key: str) -> Outcome[Any]:
        if after_uncertain_attempt(record, name):
            groups = await deps.clients.qonversion.list_groups(experiment_id)
            found = next((g for g in groups.value.data if g.name == data.variation.name), None)
            if found is not None:
                return Outcome(groups.status, found)
        return await deps.clients.qonversion.create_group(experiment_id, body, key)

    return PlannedStep(name, PROVIDER, run)


def attach_user(data: qv.QonversionUserAttachData) -> PlannedStep:
    experiment_id, user_id, group_id = _experiment_id(data), data.user_id, data.group_id

    async def run(deps: JobDeps, _: EventRecord, key: str) -> Outcome[Any]:
        # Attaching again to the same group changes nothing: safe to repeat.
        return await deps.clients.qonversion.attach_user(experiment_id, user_id, group_id, key)

    return PlannedStep("qonversion.attach_user", PROVIDER, run)


def detach_user(data: qv.QonversionUserDetachData) -> PlannedStep:
    experiment_id, user_id = _experiment_id(data), data.user_id
    return removal(
        "qonversion.detach_user",
        PROVIDER,
        lambda clients, key: clients.qonversion.detach_user(experiment_id, user_id, key),
    )


def fetch_report(data: qv.QonversionExperimentData) -> PlannedStep:
    experiment_id = _experiment_id(data)

    async def run(deps: JobDeps, _: EventRecord, __: str) -> Outcome[Any]:
        return await deps.clients.qonversion.fetch_summary(experiment_id)

    return PlannedStep("qonversion.fetch_summary", PROVIDER, run)


PLANS: dict[str, Plan[Any]] = {
    "experiment.create": Plan(qv.QonversionExperimentCreateData, create),
    "experiment.update": Plan(qv.QonversionExperimentUpdateData, update),
    "experiment.start": set_status("active"),
    "experiment.pause": set_status("paused"),
    "experiment.stop": set_status("finished"),
    "experiment.delete": Plan(qv.QonversionExperimentData, delete),
    "variation.add": Plan(qv.QonversionVariationAddData, add_group),
    "experiment.user.attach": Plan(qv.QonversionUserAttachData, attach_user),
    "experiment.user.detach": Plan(qv.QonversionUserDetachData, detach_user),
    "report.fetch": Plan(qv.QonversionExperimentData, fetch_report),
}
