"""Convert plans for experiences, their variations and reports (v1 and v2 alike: the client
speaks the configured version)."""

from __future__ import annotations

from typing import Any

from expbridge.events.convert import data as cv
from expbridge.events.event_data import EventData
from expbridge.events.record import EventRecord
from expbridge.events.targets import ConvertTarget
from expbridge.workers.clients import ProviderClients
from expbridge.workers.plans.steps import (
    PlanBuilder,
    PlannedStep,
    after_uncertain_attempt,
    removal,
    single,
)
from expbridge.workers.providers.convert.resource_plans import (
    RESOURCE_PLANS,
    create,
    delete,
    update,
)
from expbridge.workers.providers.convert.responses import Experience
from expbridge.workers.providers.http import Outcome

PROVIDER = "convert"


def _experience(data: EventData) -> tuple[str, str]:
    target = data.target
    assert isinstance(target, ConvertTarget) and target.project_id and target.experience_id
    return target.project_id, target.experience_id


def set_status(status: str) -> PlanBuilder:
    def build(data: EventData) -> list[PlannedStep]:
        project_id, experience_id = _experience(data)

        async def run(clients: ProviderClients, _: EventRecord, key: str) -> Outcome[Any]:
            return await clients.convert.set_experience_status(
                project_id, experience_id, status, key
            )

        return single("convert.set_experience_status", PROVIDER, run)

    return build


def add_variation(data: EventData) -> list[PlannedStep]:
    assert isinstance(data, cv.ConvertVariationAddData)
    project_id, experience_id = _experience(data)
    body, name = data.variation.body(), "convert.add_variation"

    async def run(clients: ProviderClients, record: EventRecord, key: str) -> Outcome[Any]:
        if after_uncertain_attempt(record, name):
            seen = await clients.convert.get("experiences", project_id, experience_id)
            assert isinstance(seen.value, Experience)
            if any(v.name == data.variation.name for v in seen.value.variations):
                return seen
        return await clients.convert.add_variation(project_id, experience_id, body, key)

    return single(name, PROVIDER, run)


def remove_variation(data: EventData) -> list[PlannedStep]:
    assert isinstance(data, cv.ConvertVariationRemoveData)
    project_id, experience_id = _experience(data)
    variation_id = data.variation_id
    return removal(
        "convert.delete_variation",
        PROVIDER,
        lambda clients, key: clients.convert.delete_variation(
            project_id, experience_id, variation_id, key
        ),
    )


def fetch_report(data: EventData) -> list[PlannedStep]:
    assert isinstance(data, cv.ConvertReportData)
    project_id, experience_id = _experience(data)

    async def run(clients: ProviderClients, _: EventRecord, __: str) -> Outcome[Any]:
        return await clients.convert.fetch_report(
            project_id, experience_id, data.goal_id, data.start_timestamp, data.end_timestamp
        )

    return single("convert.fetch_report", PROVIDER, run)


PLANS: dict[str, PlanBuilder] = {
    "experiment.create": create("experiences", "experience"),
    "experiment.update": update("experiences"),
    "experiment.start": set_status("active"),
    "experiment.pause": set_status("paused"),
    "experiment.stop": set_status("completed"),
    "experiment.archive": set_status("archived"),
    "experiment.delete": delete("experiences"),
    "variation.add": add_variation,
    "variation.remove": remove_variation,
    "report.fetch": fetch_report,
    **RESOURCE_PLANS,
}
