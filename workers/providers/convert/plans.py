"""Convert plans for experiences, their variations and reports (v1 and v2 alike: the client
speaks the configured version)."""

from __future__ import annotations

from typing import Any

from expbridge.events.convert import data as cv
from expbridge.events.record import EventRecord
from expbridge.workers.deps import JobDeps
from expbridge.workers.plans.steps import Plan, PlannedStep, after_uncertain_attempt, removal
from expbridge.workers.providers.convert.resource_plans import (
    RESOURCE_PLANS,
    create,
    delete,
    update,
)
from expbridge.workers.providers.convert.responses import Experience
from expbridge.workers.providers.http import Outcome

PROVIDER = "convert"


def _experience(data: cv.ConvertExperienceData) -> tuple[str, str]:
    # Both required by the data model's target (ConvertExperienceTarget); typed optional.
    return str(data.target.project_id), str(data.target.experience_id)


def set_status(status: str) -> Plan[cv.ConvertExperienceData]:
    def build(data: cv.ConvertExperienceData) -> PlannedStep:
        project_id, experience_id = _experience(data)

        async def run(deps: JobDeps, _: EventRecord, key: str) -> Outcome[Any]:
            return await deps.clients.convert.set_experience_status(
                project_id, experience_id, status, key
            )

        return PlannedStep("convert.set_experience_status", PROVIDER, run)

    return Plan(cv.ConvertExperienceData, build)


def add_variation(data: cv.ConvertVariationAddData) -> PlannedStep:
    project_id, experience_id = _experience(data)
    body, name = data.variation.body(), "convert.add_variation"

    async def run(deps: JobDeps, record: EventRecord, key: str) -> Outcome[Any]:
        if after_uncertain_attempt(record, name):
            seen = await deps.clients.convert.get("experiences", project_id, experience_id)
            assert isinstance(seen.value, Experience)
            if any(v.name == data.variation.name for v in seen.value.variations):
                return seen
        return await deps.clients.convert.add_variation(project_id, experience_id, body, key)

    return PlannedStep(name, PROVIDER, run)


def remove_variation(data: cv.ConvertVariationRemoveData) -> PlannedStep:
    project_id, experience_id = _experience(data)
    variation_id = data.variation_id
    return removal(
        "convert.delete_variation",
        PROVIDER,
        lambda clients, key: clients.convert.delete_variation(
            project_id, experience_id, variation_id, key
        ),
    )


def fetch_report(data: cv.ConvertReportData) -> PlannedStep:
    project_id, experience_id = _experience(data)

    async def run(deps: JobDeps, _: EventRecord, __: str) -> Outcome[Any]:
        return await deps.clients.convert.fetch_report(
            project_id, experience_id, data.goal_id, data.start_timestamp, data.end_timestamp
        )

    return PlannedStep("convert.fetch_report", PROVIDER, run)


PLANS: dict[str, Plan[Any]] = {
    "experiment.create": create("experiences", "experience"),
    "experiment.update": update("experiences"),
    "experiment.start": set_status("active"),
    "experiment.pause": set_status("paused"),
    "experiment.stop": set_status("completed"),
    "experiment.archive": set_status("archived"),
    "experiment.delete": delete("experiences"),
    "variation.add": Plan(cv.ConvertVariationAddData, add_variation),
    "variation.remove": Plan(cv.ConvertVariationRemoveData, remove_variation),
    "report.fetch": Plan(cv.ConvertReportData, fetch_report),
    **RESOURCE_PLANS,
}
