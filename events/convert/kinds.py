"""The Convert resource kinds, in one place: what the API calls each (plural, in its paths),
the word for one (ordering keys, `convert:PID/goal:ID` references, step names), and the target
field naming one. Targets, references, plans, routes and response models all read this."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceKind:
    plural: str  # "goals": the API's paths and list calls
    singular: str  # "goal": references, ordering-key labels, step names
    id_field: str  # "goal_id": the target field naming one object


PROJECT = ResourceKind("projects", "project", "project_id")
EXPERIENCE = ResourceKind("experiences", "experience", "experience_id")
# Objects below a project besides experiences: named `<singular>:<id>` in ordering keys.
OBJECT_KINDS = (
    ResourceKind("goals", "goal", "goal_id"),
    ResourceKind("hypotheses", "hypothesis", "hypothesis_id"),
    ResourceKind("audiences", "audience", "audience_id"),
)
# Everything scoped to a project (named as in the paths), and every kind.
SCOPED_KINDS = (EXPERIENCE, *OBJECT_KINDS)
ALL_KINDS = (PROJECT, *SCOPED_KINDS)
