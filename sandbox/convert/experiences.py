"""Convert experiences: status changes and their variations."""

import time
from typing import Any

from expbridge.sandbox.convert import errors
from expbridge.sandbox.convert.bodies import ExperienceCreate, ExperienceUpdate, VariationUpdate
from expbridge.sandbox.convert.errors import ConvertError
from expbridge.sandbox.convert.ops import ref_id
from expbridge.sandbox.convert.state import ConvertState

# [inferred] Convert does not publish its status machine. Setting the current status
# again is a no-op; archived is reachable from every status.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"active", "scheduled", "archived"}),
    "scheduled": frozenset({"active", "paused", "draft", "archived"}),
    "active": frozenset({"paused", "completed", "archived"}),
    "paused": frozenset({"active", "completed", "archived"}),
    "completed": frozenset({"archived"}),
    "archived": frozenset(),
}
# [inferred] A new experience starts with this baseline variation (Convert's "Original").
BASELINE_NAME = "Original"


def check_transition(experience: dict[str, Any], target: str) -> None:
    current = experience["experience_status"]
    if target != current and target not in STATUS_TRANSITIONS.get(current, frozenset()):
        message = f"Cannot change experience status from {current} to {target}"
        raise errors.conflict(message, {"experience_status": message})


def set_status(experience: dict[str, Any], target: str) -> None:
    check_transition(experience, target)
    experience["experience_status"] = target
    if target == "active" and not experience["start_time"]:
        experience["start_time"] = int(time.time())
    if target == "completed":
        experience["end_time"] = int(time.time())


def check_refs(state: ConvertState, project_id: str, fields: dict[str, Any]) -> None:
    """Goals and audiences an experience names must exist in its project."""
    problems = []
    for name, table, id_field in (
        ("goals", state.goals, "goal_id"),
        ("audiences", state.audiences, "audience_id"),
    ):
        for i, ref in enumerate(fields.get(name, [])):
            target = table.get(ref_id(ref, id_field))
            if target is None or target["project_id"] != project_id:
                problems.append((f"{name}.{i}", f"no such {name[:-1]} in project {project_id}"))
    if problems:
        raise errors.validation_failed(problems)


def rebalance(experience: dict[str, Any]) -> None:
    """[inferred] Traffic is split evenly when variations are added or removed unweighted."""
    variations = experience["variations"]
    for variation in variations:
        variation["percentage"] = round(100 / len(variations), 2)


def new_variation(state: ConvertState, fields: dict[str, Any]) -> dict[str, Any]:
    blank = {"name": "", "url": "", "js": "", "customjs": "", "css": "", "percentage": None}
    given = {k: v for k, v in fields.items() if k != "id"}
    return {"id": state.new_id(), **blank, **given}


def find_variation(experience: dict[str, Any], variation_id: str) -> dict[str, Any]:
    for variation in experience["variations"]:
        if str(variation["id"]) == variation_id:
            return variation
    raise errors.not_found(f"Variation {variation_id}")


def add_variations(
    state: ConvertState, experience: dict[str, Any], entries: list[dict[str, Any]]
) -> None:
    weighted = all(e.get("percentage") is not None for e in entries)
    experience["variations"].extend(new_variation(state, e) for e in entries)
    if not weighted:
        rebalance(experience)


def create(
    state: ConvertState, project_id: str, body: ExperienceCreate, with_variations: bool
) -> dict[str, Any]:
    fields = body.full()
    entries = fields.pop("variations")
    check_refs(state, project_id, fields)
    experience = {"id": state.new_id(), **fields, "variations": [], "project_id": project_id}
    if not (with_variations and entries):
        entries = [{"name": BASELINE_NAME}]
    add_variations(state, experience, entries)
    if experience["experience_status"] == "active" and not experience["start_time"]:
        experience["start_time"] = int(time.time())
    return experience


def _variation_changes(
    experience: dict[str, Any], entries: list[dict[str, Any]]
) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], list[dict[str, Any]]]:
    # [inferred] v2 adds variations through experience update: entries without an id
    # are new, entries with one change that variation; the others stay as they are.
    updates, new = [], []
    for i, entry in enumerate(entries):
        if entry.get("id") is None:
            if not entry.get("name"):
                raise errors.validation_failed([(f"variations.{i}.name", "Field required")])
            new.append(entry)
        else:
            target = find_variation(experience, str(entry["id"]))
            updates.append((target, {k: v for k, v in entry.items() if k != "id"}))
    return updates, new


def update(
    state: ConvertState,
    experience: dict[str, Any],
    body: ExperienceUpdate,
    with_variations: bool,
) -> None:
    changes = body.changes()
    entries = changes.pop("variations", None)
    status = changes.pop("experience_status", None)
    check_refs(state, experience["project_id"], changes)
    if status is not None:
        check_transition(experience, status)
    updates, new = _variation_changes(experience, entries or []) if with_variations else ([], [])
    experience.update(changes)
    if status is not None:
        set_status(experience, status)
    for variation, variation_changes in updates:
        variation.update(variation_changes)
    if new:
        add_variations(state, experience, new)


def update_variation(
    experience: dict[str, Any], variation_id: str, body: VariationUpdate
) -> dict[str, Any]:
    variation = find_variation(experience, variation_id)
    variation.update(body.changes())
    return variation


def delete_variation(experience: dict[str, Any], variation_id: str) -> None:
    variation = find_variation(experience, variation_id)
    if len(experience["variations"]) == 1:
        raise ConvertError(422, "An experience keeps at least one variation")
    experience["variations"].remove(variation)
    rebalance(experience)
