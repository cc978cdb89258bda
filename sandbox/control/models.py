"""Bodies of the control plane (`/_sandbox`) that sets report numbers."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class VisitorNumbers(_Strict):
    visitors: int = Field(ge=0)
    conversions: int = Field(ge=0)

    @model_validator(mode="after")
    def _not_more_conversions(self) -> "VisitorNumbers":
        if self.conversions > self.visitors:
            raise ValueError("conversions cannot exceed visitors")
        return self


class UserNumbers(_Strict):
    users: int = Field(ge=0)
    conversions: int = Field(ge=0)

    @model_validator(mode="after")
    def _not_more_conversions(self) -> "UserNumbers":
        if self.conversions > self.users:
            raise ValueError("conversions cannot exceed users")
        return self


class ConvertReportNumbers(_Strict):
    provider: Literal["convert"]
    project_id: str
    experience_id: str
    goal_id: str | None = None
    variations: dict[str, VisitorNumbers]


class QonversionReportNumbers(_Strict):
    provider: Literal["qonversion"]
    experiment_id: str
    groups: dict[str, UserNumbers]


ReportNumbers = TypeAdapter(
    Annotated[ConvertReportNumbers | QonversionReportNumbers, Field(discriminator="provider")]
)
