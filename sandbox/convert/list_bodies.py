"""Convert list and report request bodies. Lists ignore filters they do not know."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from expbridge.sandbox.convert.bodies import AnyId, ExperienceStatus, ExperienceType, NonNegative

ScoreBound = Literal["0", "1", "2", "3", "4", "5"] | Annotated[int, Field(ge=0, le=5)]


class ListBody(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    # [inferred] page 0 (as in one seed sample) is read as the first page.
    page: int = Field(default=1, ge=0)
    results_per_page: int | None = Field(default=None, ge=1)


class ProjectList(ListBody):
    pass


class ExperienceList(ListBody):
    experience_types: list[ExperienceType] = Field(default_factory=list)
    experience_status: list[ExperienceStatus] = Field(default_factory=list)
    search: str = ""


class GoalList(ListBody):
    search: str = ""


class HypothesisList(ListBody):
    search: str = ""
    status: list[ExperienceStatus] = Field(default_factory=list)
    # camelCase as the seed spells them.
    scoreMax: ScoreBound | None = None
    scoreMin: ScoreBound | None = None


class AudienceList(ListBody):
    search: str = ""
    # camelCase as the seed spells them.
    isSegment: bool | None = None
    isUsed: bool | None = None


class ReportRangeV1(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    start_timestamp: NonNegative | None = None
    end_timestamp: NonNegative | None = None


class ReportRequestV2(BaseModel):
    # v2 report bodies carry more options than the sandbox models; they are ignored.
    model_config = ConfigDict(extra="ignore", strict=True)

    goals: list[AnyId] = Field(default_factory=list)
    start_time: NonNegative | None = None
    end_time: NonNegative | None = None
