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

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic_core import core_schema

from expbridge.events.convert.kinds import EXPERIENCE, OBJECT_KINDS

ID_PATTERN = r"^[a-zA-Z0-9._-]+$"
DOT_SEGMENTS = (".", "..")


def _not_a_dot_segment(value: str) -> str:
    if value in DOT_SEGMENTS:
        raise ValueError("an id cannot be '.' or '..' (it goes into upstream paths)")
    return value


# An id that becomes an upstream path segment: never a dot segment (the schema says so too).
# (After the other constraints: an AfterValidator first would hide them from the schema.)
NOT_A_DOT_SEGMENT = AfterValidator(_not_a_dot_segment)
NOT_A_DOT_SEGMENT_SCHEMA = Field(json_schema_extra={"not": {"enum": list(DOT_SEGMENTS)}})
QonversionExperimentId = Annotated[
    str,
    Field(min_length=1, max_length=256, pattern=ID_PATTERN),
    NOT_A_DOT_SEGMENT,
    NOT_A_DOT_SEGMENT_SCHEMA,
]
ConvertId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]

# The Convert resources below a project a target may name, and their ordering-key label.
CONVERT_RESOURCES: dict[str, str] = {
    EXPERIENCE.id_field: "",
    **{kind.id_field: f"{kind.singular}:" for kind in OBJECT_KINDS},
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


def _names(field: str) -> dict[str, Any]:
    return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}


@dataclass(frozen=True)
class Naming:
    """Narrows a target to the events that act on `resource` (None: a target without ids).
    Validation and the OpenAPI schema come from this one definition, so they agree."""

    resource: str | None
    id_fields: tuple[str, ...]

    def check(self, target: AnyTarget) -> AnyTarget:
        if target.resource != self.resource:
            resource = self.resource
            wanted = f"a target with {resource}" if resource else "a target without ids"
            raise ValueError(f"this event needs {wanted} (got {target.resource or 'no id'})")
        return target

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        named = {self.resource} if self.resource else set()
        if self.resource in CONVERT_RESOURCES:
            named.add("project_id")
        rules = [_names(f) for f in self.id_fields if f in named]
        rules += [{"not": _names(f)} for f in self.id_fields if f not in named]
        return {"allOf": [handler(schema), *rules]}


QONVERSION_IDS = ("experiment_id",)
CONVERT_IDS = ("project_id", *CONVERT_RESOURCES)

# What each event may act on: the catalog's data models narrow `target` with these.
QonversionExperimentTarget = Annotated[QonversionTarget, Naming("experiment_id", QONVERSION_IDS)]
QonversionNewExperimentTarget = Annotated[QonversionTarget, Naming(None, QONVERSION_IDS)]
ConvertAccountTarget = Annotated[ConvertTarget, Naming(None, CONVERT_IDS)]
ConvertProjectTarget = Annotated[ConvertTarget, Naming("project_id", CONVERT_IDS)]
ConvertExperienceTarget = Annotated[ConvertTarget, Naming("experience_id", CONVERT_IDS)]
ConvertGoalTarget = Annotated[ConvertTarget, Naming("goal_id", CONVERT_IDS)]
ConvertHypothesisTarget = Annotated[ConvertTarget, Naming("hypothesis_id", CONVERT_IDS)]
ConvertAudienceTarget = Annotated[ConvertTarget, Naming("audience_id", CONVERT_IDS)]
