"""What an event acts on, and its ordering key (events with one key take effect in order).

Ordering keys:
* `qonversion:<experiment_id>` for an experiment; a Qonversion experiment.create has no id
  yet, so its data names the key (`qonversion:alias:<alias_id>`, see the catalog data);
* `convert:<project_id>/<experience_id>` for an experience, `convert:<project_id>/goal:<id>`,
  `.../hypothesis:<id>`, `.../audience:<id>` for the other resources, `convert:<project_id>`
  for project-level events (project update/delete, creating objects in it) and
  `convert:projects` for creating a project.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[a-zA-Z0-9._-]+$"
QonversionExperimentId = Annotated[str, Field(min_length=1, max_length=256, pattern=ID_PATTERN)]
ConvertId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]

# The Convert resources below a project a target may name, and their ordering-key label.
CONVERT_RESOURCES: dict[str, str] = {
    "experience_id": "",
    "goal_id": "goal:",
    "hypothesis_id": "hypothesis:",
    "audience_id": "audience:",
}


class QonversionTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: Literal["qonversion"]
    # None only for experiment.create, which names the experiment by data.experiment.alias_id.
    experiment_id: QonversionExperimentId | None = None

    @property
    def ordering_key(self) -> str:
        return f"qonversion:{self.experiment_id}" if self.experiment_id else "qonversion"

    @property
    def resource(self) -> str | None:
        return "experiment_id" if self.experiment_id else None


class ConvertTarget(BaseModel):
    # Convert ids are numbers in some answers (hypotheses): accept 1001 as "1001".
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    provider: Literal["convert"]
    # None only for project.create.
    project_id: ConvertId | None = None
    experience_id: ConvertId | None = None
    goal_id: ConvertId | None = None
    hypothesis_id: ConvertId | None = None
    audience_id: ConvertId | None = None

    @model_validator(mode="after")
    def _one_resource(self) -> ConvertTarget:
        named = [name for name in CONVERT_RESOURCES if getattr(self, name) is not None]
        if len(named) > 1:
            raise ValueError(f"a target names at most one of {', '.join(CONVERT_RESOURCES)}")
        if named and self.project_id is None:
            raise ValueError(f"{named[0]} needs project_id")
        return self

    @property
    def resource(self) -> str | None:
        """The id field naming what the target is: a resource, "project_id", or None."""
        named = [name for name in CONVERT_RESOURCES if getattr(self, name) is not None]
        if named:
            return named[0]
        return "project_id" if self.project_id is not None else None

    @property
    def ordering_key(self) -> str:
        resource = self.resource
        if resource is None:
            return "convert:projects"
        if resource == "project_id":
            return f"convert:{self.project_id}"
        return f"convert:{self.project_id}/{CONVERT_RESOURCES[resource]}{getattr(self, resource)}"


class AliasTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alias: Annotated[str, Field(min_length=1, max_length=128)]


AnyTarget = QonversionTarget | ConvertTarget
Target = Annotated[AnyTarget, Field(discriminator="provider")]


def _naming(resource: str | None) -> Callable[[AnyTarget], AnyTarget]:
    def check(target: AnyTarget) -> AnyTarget:
        if target.resource != resource:
            wanted = f"a target with {resource}" if resource else "a target without ids"
            raise ValueError(f"this event needs {wanted} (got {target.resource or 'no id'})")
        return target

    return check


# What each event may act on: the catalog's data models narrow `target` with these.
QonversionExperimentTarget = Annotated[QonversionTarget, AfterValidator(_naming("experiment_id"))]
QonversionNewExperimentTarget = Annotated[QonversionTarget, AfterValidator(_naming(None))]
ConvertAccountTarget = Annotated[ConvertTarget, AfterValidator(_naming(None))]
ConvertProjectTarget = Annotated[ConvertTarget, AfterValidator(_naming("project_id"))]
ConvertExperienceTarget = Annotated[ConvertTarget, AfterValidator(_naming("experience_id"))]
ConvertGoalTarget = Annotated[ConvertTarget, AfterValidator(_naming("goal_id"))]
ConvertHypothesisTarget = Annotated[ConvertTarget, AfterValidator(_naming("hypothesis_id"))]
ConvertAudienceTarget = Annotated[ConvertTarget, AfterValidator(_naming("audience_id"))]
