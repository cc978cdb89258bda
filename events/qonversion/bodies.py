"""Qonversion v4 request bodies, with the constraints of the seed (PATCH /experiments/{id})
and providers.md (create, groups, users)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from expbridge.events.targets import ID_PATTERN, NOT_A_DOT_SEGMENT, NOT_A_DOT_SEGMENT_SCHEMA

AliasId = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
ExperimentStatus = Literal["draft", "active", "paused", "finished"]
Name = Annotated[str, Field(min_length=1)]
# [inferred] user ids have no published rule: a path segment of at most 256 characters.
UserId = Annotated[
    str,
    Field(min_length=1, max_length=256, pattern=r"^[^\s/?#]+$"),
    NOT_A_DOT_SEGMENT,
    NOT_A_DOT_SEGMENT_SCHEMA,
]
GroupId = Annotated[str, Field(min_length=1, max_length=64)]


def migrate_primary_metric(value: str | None) -> str | None:
    """Legacy hyphenated metrics (user-to-trial) are read-only upstream: send underscores."""
    return value.replace("-", "_") if value is not None else None


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def body(self) -> dict[str, Any]:
        """Only the fields the producer named, nulls included (null clears a field upstream)."""
        return self.model_dump(mode="json", include=self.model_fields_set)


class ExperimentFields(Body):
    """The experiment fields of the seed; all optional here."""

    name: Name | None = None
    alias_id: AliasId | None = None
    description: str | None = None
    segment_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    primary_metric: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    goal_value: float | None = None
    goal_direction: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    context_key: str | None = None
    is_context_specific: StrictBool | None = None

    @field_validator("primary_metric")
    @classmethod
    def _migrate(cls, value: str | None) -> str | None:
        return migrate_primary_metric(value)

    @model_validator(mode="after")
    def _not_nullable(self) -> ExperimentFields:
        for name in ("name", "alias_id"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class ExperimentChanges(ExperimentFields):
    """PATCH /experiments/{id}: all optional, only provided fields change."""

    @model_validator(mode="after")
    def _not_empty(self) -> ExperimentChanges:
        if not self.model_fields_set:
            raise ValueError("changes must name at least one field")
        return self

    def patch_body(self) -> dict[str, object]:
        return self.body()


class ExperimentCreate(ExperimentFields):
    """POST /experiments: name and alias_id required; alias_id is immutable afterwards."""

    name: Name
    alias_id: AliasId


class GroupCreate(Body):
    """POST /experiments/{id}/groups: a group (variant)."""

    # [inferred] a share of traffic in percent.
    weight: Annotated[float, Field(ge=0, le=100)]
    # Optional upstream, required here: after an attempt with an unknown outcome the worker
    # finds the group by name instead of creating a second one.
    name: Annotated[str, Field(min_length=1, max_length=256)]
    is_control: StrictBool | None = None
    remote_config_uid: Annotated[str, Field(min_length=1, max_length=256)] | None = None
