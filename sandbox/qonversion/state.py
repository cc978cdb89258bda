"""In-memory Qonversion project: experiments, their groups and attached users."""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from expbridge.sandbox.stats import Counts


def iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def experiment_url(experiment_id: str) -> str:
    return f"/v4/experiments/{experiment_id}"


@dataclass
class QonversionState:
    seed: int
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    # experiment id -> user id -> group id
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    # experiment id -> group id -> numbers set through the control plane
    report_numbers: dict[str, dict[str, Counts]] = field(default_factory=dict)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def new_id(self, prefix: str) -> str:
        while True:
            candidate = f"{prefix}_{self.rng.getrandbits(48):012x}"
            if candidate not in self.experiments and candidate not in self.groups:
                return candidate

    def find_experiment(self, ref: str) -> dict[str, Any] | None:
        # [inferred] The path takes the server id; the alias_id is accepted as well.
        if ref in self.experiments:
            return self.experiments[ref]
        return next((e for e in self.experiments.values() if e["alias_id"] == ref), None)

    def alias_taken(self, alias_id: str, except_id: str | None = None) -> bool:
        return any(
            e["alias_id"] == alias_id and e["id"] != except_id for e in self.experiments.values()
        )

    def groups_of(self, experiment_id: str) -> list[dict[str, Any]]:
        return [g for g in self.groups.values() if g["experiment_id"] == experiment_id]

    def delete_experiment(self, experiment_id: str) -> None:
        del self.experiments[experiment_id]
        for group in self.groups_of(experiment_id):
            del self.groups[group["id"]]
        self.users.pop(experiment_id, None)
        self.report_numbers.pop(experiment_id, None)

    def clear(self) -> None:
        self.experiments.clear()
        self.groups.clear()
        self.users.clear()
        self.report_numbers.clear()
        self.rng = random.Random(self.seed)

    def snapshot(self) -> dict[str, Any]:
        return {
            "experiments": dict(self.experiments),
            "groups": dict(self.groups),
            "users": {eid: dict(users) for eid, users in self.users.items()},
        }


def new_experiment(
    state: QonversionState, fields: dict[str, Any], experiment_id: str | None = None
) -> dict[str, Any]:
    """A complete experiment object; `fields` override the defaults."""
    eid = experiment_id or state.new_id("exp")
    now = iso_now()
    experiment: dict[str, Any] = {
        "object": "experiment",
        "id": eid,
        "url": experiment_url(eid),
        "name": "",
        "alias_id": eid,
        "description": "",
        "status": "draft",
        "started_at": None,
        "finished_at": None,
        "segment_percent": None,
        "primary_metric": None,
        "goal_value": None,
        "goal_direction": None,
        "context_key": "",
        "is_context_specific": False,
        "created_at": now,
        "updated_at": now,
    }
    experiment.update({k: v for k, v in fields.items() if k in experiment})
    experiment["id"], experiment["url"], experiment["object"] = (
        eid,
        experiment_url(eid),
        "experiment",
    )
    return experiment


def new_group(
    state: QonversionState,
    experiment_id: str,
    fields: dict[str, Any],
    group_id: str | None = None,
) -> dict[str, Any]:
    gid = group_id or state.new_id("grp")
    group: dict[str, Any] = {
        "object": "group",
        "id": gid,
        "experiment_id": experiment_id,
        "name": "",
        "weight": 0,
        "is_control": False,
        "remote_config_uid": None,
        "created_at": iso_now(),
    }
    group.update({k: v for k, v in fields.items() if k in group})
    group["id"], group["experiment_id"], group["object"] = gid, experiment_id, "group"
    return group
