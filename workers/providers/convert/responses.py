"""Convert response objects (fields of the v1 seed). Read leniently: unknown fields are kept,
numeric ids (hypotheses answer numbers) become strings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ConvertObject(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class Project(ConvertObject):
    id: str
    account_id: str | None = None
    name: str | None = None
    status: str | None = None
    tracking_snippet: str | None = None
    created_at: str | None = None


class Variation(ConvertObject):
    id: str
    name: str | None = None
    percentage: float | None = None


class Experience(ConvertObject):
    id: str
    name: str | None = None
    experience_description: str | None = None
    experience_type: str | None = None
    experience_status: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    goals: list[Any] = Field(default_factory=list)
    audiences: list[Any] = Field(default_factory=list)
    variations: list[Variation] = Field(default_factory=list)


class Goal(ConvertObject):
    goal_id: str
    goal_name: str | None = None
    description: str | None = None
    goal_type: str | None = None


class Audience(ConvertObject):
    audience_id: str
    audience_name: str | None = None
    description: str | None = None
    audience_type: str | None = None


class Hypothesis(ConvertObject):
    id: str
    project_id: str | None = None
    name: str | None = None
    status: str | None = None
    # The seed sends the score as a number and answers it as a string.
    prioritization_score: str | None = None
    prioritization_score_type: str | None = None


@dataclass(frozen=True)
class Kind:
    """How one resource kind reads: its model, id field and name field."""

    model: type[ConvertObject]
    id_field: str
    name_field: str
    # Whether its list call takes a `search` filter (the seed: all but projects).
    searchable: bool = True

    def name_of(self, obj: ConvertObject) -> str | None:
        value = getattr(obj, self.name_field, None)
        return None if value is None else str(value)


KINDS: Mapping[str, Kind] = MappingProxyType(
    {
        "projects": Kind(Project, "id", "name", searchable=False),
        "experiences": Kind(Experience, "id", "name"),
        "goals": Kind(Goal, "goal_id", "goal_name"),
        "audiences": Kind(Audience, "audience_id", "audience_name"),
        "hypotheses": Kind(Hypothesis, "id", "name"),
    }
)
