"""`POST /_sandbox/seed`: put objects straight into the state, given ids kept, unvalidated.

Seeding skips the API's validation on purpose, so tests can start from states the API
would refuse to create, such as legacy hyphenated Qonversion metrics.
"""

from typing import Any

from expbridge.sandbox.convert.bodies import (
    AudienceUpdate,
    ExperienceUpdate,
    GoalUpdate,
    HypothesisUpdate,
)
from expbridge.sandbox.convert.experiences import new_variation, rebalance
from expbridge.sandbox.convert.ops import get_project, new_project, new_scoped
from expbridge.sandbox.convert.state import ID_FIELDS, ConvertState
from expbridge.sandbox.errors import ApiError
from expbridge.sandbox.qonversion.state import QonversionState, new_experiment, new_group

SCOPED_DEFAULTS = {
    "goals": GoalUpdate,
    "audiences": AudienceUpdate,
    "hypotheses": HypothesisUpdate,
    "experiences": ExperienceUpdate,
}


class SeedError(ValueError):
    pass


def _objects(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = data.get(name, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise SeedError(f"{name} must be a list of objects")
    return items


def _id(obj: dict[str, Any], field: str) -> str | None:
    value = obj.get(field)
    return None if value is None else str(value)


def _required(obj: dict[str, Any], field: str, what: str) -> str:
    value = _id(obj, field)
    if value is None:
        raise SeedError(f"every seeded {what} needs {field}")
    return value


def seed_qonversion(state: QonversionState, data: dict[str, Any]) -> None:
    for fields in _objects(data, "experiments"):
        experiment = new_experiment(state, fields, _id(fields, "id"))
        if "alias_id" not in fields:
            experiment["alias_id"] = experiment["id"]
        state.experiments[experiment["id"]] = experiment
    for fields in _objects(data, "groups"):
        experiment_id = _required(fields, "experiment_id", "group")
        if experiment_id not in state.experiments:
            raise SeedError(f"group for unknown experiment {experiment_id}")
        group = new_group(state, experiment_id, fields, _id(fields, "id"))
        state.groups[group["id"]] = group
    for link in _objects(data, "users"):
        experiment_id = _required(link, "experiment_id", "user")
        user_id = _required(link, "user_id", "user")
        state.users.setdefault(experiment_id, {})[user_id] = _required(link, "group_id", "user")


def _seed_experience(state: ConvertState, project_id: str, fields: dict[str, Any]) -> None:
    experience: dict[str, Any] = {"id": _id(fields, "id") or state.new_id()}
    experience.update(ExperienceUpdate().full())
    experience.update({k: v for k, v in fields.items() if k not in ("id", "variations")})
    experience["project_id"] = project_id
    variations = fields.get("variations") or [{"name": "Original"}]
    experience["variations"] = []
    for given in variations:
        variation = new_variation(state, given)
        variation["id"] = _id(given, "id") or variation["id"]
        experience["variations"].append(variation)
    if any(v["percentage"] is None for v in experience["variations"]):
        rebalance(experience)
    state.experiences[experience["id"]] = experience


def seed_convert(state: ConvertState, data: dict[str, Any]) -> None:
    for fields in _objects(data, "projects"):
        given = {k: v for k, v in fields.items() if k != "id"}
        project = new_project(state, given, _id(fields, "id"))
        state.projects[project["id"]] = project
    for kind in ("goals", "audiences", "experiences", "hypotheses"):
        for fields in _objects(data, kind):
            project_id = _required(fields, "project_id", kind[:-1])
            try:
                get_project(state, project_id)
            except ApiError as exc:
                raise SeedError(f"{kind[:-1]} for unknown project {project_id}") from exc
            if kind == "experiences":
                _seed_experience(state, project_id, fields)
                continue
            oid = _id(fields, ID_FIELDS[kind])
            given = {k: v for k, v in fields.items() if k not in (ID_FIELDS[kind], "project_id")}
            full = {**SCOPED_DEFAULTS[kind]().full(), **given}
            try:
                obj = new_scoped(state, kind, project_id, full, oid)
            except ApiError as exc:
                raise SeedError(f"{kind[:-1]}: {exc.payload.get('message')}") from exc
            state.table(kind)[str(obj[ID_FIELDS[kind]])] = obj
