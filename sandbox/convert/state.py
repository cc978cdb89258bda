"""In-memory Convert account: one state seen through both API versions."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from expbridge.sandbox.stats import Counts

PROJECT_SCOPED = ("experiences", "goals", "hypotheses", "audiences")
ID_FIELDS = {
    "projects": "id",
    "experiences": "id",
    "goals": "goal_id",
    "hypotheses": "id",
    "audiences": "audience_id",
}
FIRST_ID = 100001


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class ConvertState:
    account_id: str
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Project-scoped objects carry a "project_id" key next to their documented fields.
    experiences: dict[str, dict[str, Any]] = field(default_factory=dict)
    goals: dict[str, dict[str, Any]] = field(default_factory=dict)
    hypotheses: dict[str, dict[str, Any]] = field(default_factory=dict)
    audiences: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (experience id, goal id or None for every goal) -> variation id -> numbers
    report_numbers: dict[tuple[str, str | None], dict[str, Counts]] = field(default_factory=dict)
    next_id: int = FIRST_ID

    def table(self, kind: str) -> dict[str, dict[str, Any]]:
        tables: dict[str, dict[str, dict[str, Any]]] = {
            "projects": self.projects,
            "experiences": self.experiences,
            "goals": self.goals,
            "hypotheses": self.hypotheses,
            "audiences": self.audiences,
        }
        return tables[kind]

    def _used_ids(self) -> set[str]:
        used: set[str] = set()
        for kind in ID_FIELDS:
            used.update(self.table(kind))
        for experience in self.experiences.values():
            used.update(str(v.get("id")) for v in experience.get("variations", []))
        return used

    def new_id(self) -> str:
        used = self._used_ids()
        while str(self.next_id) in used:
            self.next_id += 1
        self.next_id += 1
        return str(self.next_id - 1)

    def scoped(self, kind: str, project_id: str) -> list[dict[str, Any]]:
        return [o for o in self.table(kind).values() if o["project_id"] == project_id]

    def delete_project(self, project_id: str) -> None:
        del self.projects[project_id]
        for kind in PROJECT_SCOPED:
            table = self.table(kind)
            for oid in [k for k, o in table.items() if o["project_id"] == project_id]:
                del table[oid]

    def clear(self) -> None:
        for kind in ID_FIELDS:
            self.table(kind).clear()
        self.report_numbers.clear()
        self.next_id = FIRST_ID

    def snapshot(self) -> dict[str, Any]:
        return {kind: dict(self.table(kind)) for kind in ID_FIELDS}
