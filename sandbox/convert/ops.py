"""Convert resource operations shared by both API versions: lookup, create, update, list."""

from typing import Any

from expbridge.sandbox.convert import errors
from expbridge.sandbox.convert.bodies import SCORE_ATTRIBUTES
from expbridge.sandbox.convert.list_bodies import (
    AudienceList,
    ExperienceList,
    HypothesisList,
    ListBody,
)
from expbridge.sandbox.convert.state import ID_FIELDS, ConvertState, now_text, today

LABELS = {
    "projects": "Project",
    "experiences": "Experience",
    "goals": "Goal",
    "hypotheses": "Hypothesis",
    "audiences": "Audience",
}
SEARCHED_FIELDS = {
    "projects": ("name",),
    "experiences": ("name", "experience_description"),
    "goals": ("goal_name", "description"),
    "hypotheses": ("name", "objective"),
    "audiences": ("audience_name", "description"),
}


def get_project(state: ConvertState, project_id: str) -> dict[str, Any]:
    project = state.projects.get(project_id)
    if project is None:
        raise errors.not_found(f"Project {project_id}")
    return project


def get_scoped(state: ConvertState, kind: str, project_id: str, oid: str) -> dict[str, Any]:
    get_project(state, project_id)
    obj = state.table(kind).get(oid)
    if obj is None or obj["project_id"] != project_id:
        raise errors.not_found(f"{LABELS[kind]} {oid}")
    return obj


def _as_number(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value


def public(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the API shows it: hypotheses carry numeric ids, as in the seed."""
    if kind == "hypotheses":
        return {**obj, "id": _as_number(obj["id"]), "project_id": _as_number(obj["project_id"])}
    if kind == "projects":
        return dict(obj)
    return {k: v for k, v in obj.items() if k != "project_id"}


def new_project(
    state: ConvertState, fields: dict[str, Any], pid: str | None = None
) -> dict[str, Any]:
    project_id = pid or state.new_id()
    account = state.account_id
    snippet = (
        f'<script type="text/javascript" src="//cdn-4.convertexperiments.com/js/'
        f'{account}-{project_id}.js"></script>'
    )
    project = {"id": project_id, "account_id": account, "tracking_snippet": snippet}
    project.update({"created_at": today(), "name": "", "status": "active", **fields})
    return project


def score_hypothesis(hypothesis: dict[str, Any], explicit_score: bool) -> None:
    """Check attributes against the score model; derive the score when none was sent."""
    score_type = hypothesis["prioritization_score_type"]
    attributes = hypothesis["prioritization_score_attributes"]
    unknown = set(attributes) - SCORE_ATTRIBUTES[score_type]
    if unknown:
        allowed = ", ".join(sorted(SCORE_ATTRIBUTES[score_type]))
        field = "prioritization_score_attributes"
        raise errors.validation_failed([(field, f"{score_type} attributes are {allowed}")])
    if not explicit_score and attributes:
        # [inferred] score = mean of the attributes.
        hypothesis["prioritization_score"] = sum(attributes.values()) / len(attributes)
    score = float(hypothesis.get("prioritization_score") or 0)
    # The seed shows the score sent as a number and returned as a string.
    hypothesis["prioritization_score"] = f"{score:g}"


def new_scoped(
    state: ConvertState, kind: str, project_id: str, fields: dict[str, Any], oid: str | None = None
) -> dict[str, Any]:
    object_id = oid or state.new_id()
    obj = {ID_FIELDS[kind]: object_id, **fields, "project_id": project_id}
    if kind == "hypotheses":
        obj.setdefault("created_at", now_text())
        score_hypothesis(obj, explicit_score=fields.get("prioritization_score") is not None)
    return obj


def apply_changes(kind: str, obj: dict[str, Any], changes: dict[str, Any]) -> None:
    if kind == "hypotheses":
        merged = {**obj, **changes}
        score_hypothesis(merged, explicit_score="prioritization_score" in changes)
        changes = {**changes, "prioritization_score": merged["prioritization_score"]}
    obj.update(changes)


def delete(state: ConvertState, kind: str, obj: dict[str, Any]) -> None:
    object_id = str(obj[ID_FIELDS[kind]])
    if kind == "projects":
        state.delete_project(object_id)
        return
    del state.table(kind)[object_id]
    if kind == "experiences":
        for key in [k for k in state.report_numbers if k[0] == object_id]:
            del state.report_numbers[key]


def _used_audiences(state: ConvertState) -> set[str]:
    return {
        ref_id(ref, "audience_id") for e in state.experiences.values() for ref in e["audiences"]
    }


def _keep(state: ConvertState, kind: str, obj: dict[str, Any], body: ListBody) -> bool:
    search = getattr(body, "search", "").lower()
    if search and not any(search in str(obj.get(f, "")).lower() for f in SEARCHED_FIELDS[kind]):
        return False
    if isinstance(body, ExperienceList):
        types, statuses = body.experience_types, body.experience_status
        return (not types or obj["experience_type"] in types) and (
            not statuses or obj["experience_status"] in statuses
        )
    if isinstance(body, HypothesisList):
        score = float(obj["prioritization_score"])
        return (
            (not body.status or obj["status"] in body.status)
            and (body.scoreMin is None or score >= float(body.scoreMin))
            and (body.scoreMax is None or score <= float(body.scoreMax))
        )
    if isinstance(body, AudienceList):
        # [inferred] "segment" = audience_type segmentation; "used" = in some experience.
        segment = obj["audience_type"] == "segmentation"
        used = obj["audience_id"] in _used_audiences(state)
        return (body.isSegment is None or segment == body.isSegment) and (
            body.isUsed is None or used == body.isUsed
        )
    return True


def listed(
    state: ConvertState, kind: str, project_id: str | None, body: ListBody
) -> list[dict[str, Any]]:
    objects = state.scoped(kind, project_id) if project_id else list(state.projects.values())
    return [public(kind, o) for o in objects if _keep(state, kind, o, body)]


def ref_id(ref: Any, id_field: str) -> str:
    """An id from a reference sent as a bare id or as an object."""
    if isinstance(ref, dict):
        return str(ref.get(id_field, ref.get("id", "")))
    return str(ref)
