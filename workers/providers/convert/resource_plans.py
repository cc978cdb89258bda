"""Convert create / update / delete plans, one shape for every resource kind.

The builders are generic over the resource kinds, so they take any event data and find the
kind's fields by name (hence their narrowings). A create is not idempotent upstream: after an
attempt with an unknown outcome the step looks the object up by name first and creates it
only when it is not there.
"""

from __future__ import annotations

from typing import Any

from expbridge.events.convert.common import ConvertBody
from expbridge.events.convert.data import ConvertHypothesisStatusData
from expbridge.events.convert.kinds import ALL_KINDS
from expbridge.events.event_data import EventData
from expbridge.events.record import EventRecord
from expbridge.events.targets import ConvertTarget
from expbridge.workers.deps import JobDeps
from expbridge.workers.plans.steps import Plan, PlannedStep, after_uncertain_attempt, removal
from expbridge.workers.providers.convert.responses import KINDS
from expbridge.workers.providers.http import Outcome

PROVIDER = "convert"
# kind -> (the target field naming one object, the step names' noun)
OBJECTS: dict[str, tuple[str, str]] = {k.plural: (k.id_field, k.singular) for k in ALL_KINDS}


def _target(data: EventData) -> ConvertTarget:
    assert isinstance(data.target, ConvertTarget)
    return data.target


def _object_id(kind: str, target: ConvertTarget) -> str:
    value = getattr(target, OBJECTS[kind][0])
    assert value is not None
    return str(value)


def create(kind: str, body_field: str) -> Plan[EventData]:
    """`data.<body_field>` created in the target's project (or the account, for projects)."""
    name = f"convert.create_{OBJECTS[kind][1]}"

    def build(data: EventData) -> PlannedStep:
        project_id = _target(data).project_id
        created = getattr(data, body_field)
        assert isinstance(created, ConvertBody)
        body = created.body()
        object_name = str(body[KINDS[kind].name_field])

        async def run(deps: JobDeps, record: EventRecord, key: str) -> Outcome[Any]:
            if after_uncertain_attempt(record, name):
                found = await deps.clients.convert.find_by_name(kind, project_id, object_name)
                if found is not None:
                    return Outcome(200, found)
            return await deps.clients.convert.create(kind, project_id, body, key)

        return PlannedStep(name, PROVIDER, run)

    return Plan(EventData, build)


def update(kind: str) -> Plan[EventData]:
    name = f"convert.update_{OBJECTS[kind][1]}"

    def build(data: EventData) -> PlannedStep:
        target = _target(data)
        object_id = _object_id(kind, target)
        changes = getattr(data, "changes", None)
        assert isinstance(changes, ConvertBody)
        body = changes.body()

        async def run(deps: JobDeps, _: EventRecord, key: str) -> Outcome[Any]:
            return await deps.clients.convert.update(kind, target.project_id, object_id, body, key)

        return PlannedStep(name, PROVIDER, run)

    return Plan(EventData, build)


def delete(kind: str) -> Plan[EventData]:
    name = f"convert.delete_{OBJECTS[kind][1]}"

    def build(data: EventData) -> PlannedStep:
        target = _target(data)
        object_id = _object_id(kind, target)
        return removal(
            name,
            PROVIDER,
            lambda clients, key: clients.convert.delete(kind, target.project_id, object_id, key),
        )

    return Plan(EventData, build)


def set_hypothesis_status(data: ConvertHypothesisStatusData) -> PlannedStep:
    target = data.target
    project_id, hypothesis_id = str(target.project_id), _object_id("hypotheses", target)

    async def run(deps: JobDeps, _: EventRecord, key: str) -> Outcome[Any]:
        return await deps.clients.convert.set_hypothesis_status(
            project_id, hypothesis_id, data.status, key
        )

    return PlannedStep("convert.set_hypothesis_status", PROVIDER, run)


RESOURCE_PLANS: dict[str, Plan[Any]] = {
    "project.create": create("projects", "project"),
    "project.update": update("projects"),
    "project.delete": delete("projects"),
    "goal.create": create("goals", "goal"),
    "goal.update": update("goals"),
    "goal.delete": delete("goals"),
    "hypothesis.create": create("hypotheses", "hypothesis"),
    "hypothesis.update": update("hypotheses"),
    "hypothesis.status": Plan(ConvertHypothesisStatusData, set_hypothesis_status),
    "hypothesis.delete": delete("hypotheses"),
    "audience.create": create("audiences", "audience"),
    "audience.update": update("audiences"),
    "audience.delete": delete("audiences"),
}
