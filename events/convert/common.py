"""What every Convert request body shares: enums of the v1 seed, no nulls, partial changes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ExperienceType = Literal["a/b", "a/a", "mvt", "split_url", "personalization"]
# Experiences and hypotheses share these statuses in the seed.
Status = Literal["draft", "active", "paused", "completed", "scheduled", "archived"]
ProjectStatus = Literal["active", "inactive", "suspended"]
GoalType = Literal[
    "advanced",
    "DOM_interaction",
    "visits_page",
    "revenue",
    "clicks_link",
    "submits_form",
    "clicks_element",
    "dom_interaction",
    "scroll_percentage",
    "ga_import",
    "code_trigger",
]
AudienceType = Literal["permanent", "segmentation", "transient"]
ScoreType = Literal["PIE", "ICE"]

Name = Annotated[str, Field(min_length=1, max_length=256)]
Flag = Annotated[int, Field(ge=0, le=1)]
Percent = Annotated[float, Field(ge=0, le=100)]
NonNegative = Annotated[float, Field(ge=0)]
Day = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
# A rule object (site area, triggering rule, firing rule): its grammar is Convert's business.
Rule = dict[str, Any]
# A goal or audience an experience names: its id, or an object as the seed shows.
Ref = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")] | int | Rule


class ConvertBody(BaseModel):
    """A body as the producer wrote it: unknown fields and nulls are refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_nulls(self) -> ConvertBody:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def body(self) -> dict[str, Any]:
        """Only the fields the producer named."""
        return self.model_dump(mode="json", exclude_unset=True)


class Changes(ConvertBody):
    """An update: only the named fields change, and at least one must be named."""

    @model_validator(mode="after")
    def _not_empty(self) -> Changes:
        if not self.model_fields_set:
            raise ValueError("changes must name at least one field")
        return self
