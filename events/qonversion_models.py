"""Qonversion v4 request bodies, with the constraints of the seed (PATCH /experiments/{id})."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from events.targets import ID_PATTERN

AliasId = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
ExperimentStatus = Literal["draft", "active", "paused", "finished"]


def migrate_primary_metric(value: str | None) -> str | None:
    """Legacy hyphenated metrics (user-to-trial) are read-only upstream: send underscores."""
    return value.replace("-", "_") if value is not None else None


class ExperimentChanges(BaseModel):
    """PATCH /experiments/{id}: all optional, only provided fields change."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1)] | None = None
    alias_id: AliasId | None = None
    description: str | None = None
    segment_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    primary_metric: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    goal_value: float | None = None
    goal_direction: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    context_key: str | None = None
    is_context_specific: bool | None = None

    @field_validator("primary_metric")
    @classmethod
    def _migrate(cls, value: str | None) -> str | None:
        return migrate_primary_metric(value)

    @model_validator(mode="after")
    def _not_empty(self) -> ExperimentChanges:
        if not self.model_fields_set:
            raise ValueError("changes must name at least one field")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        if "alias_id" in self.model_fields_set and self.alias_id is None:
            raise ValueError("alias_id cannot be null")
        return self

    def patch_body(self) -> dict[str, object]:
        """Only the fields the producer named, nulls included (null clears a field upstream)."""
        return self.model_dump(mode="json", include=self.model_fields_set)
