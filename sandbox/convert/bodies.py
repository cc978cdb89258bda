"""Convert request bodies for projects, experiences, variations, goals, hypotheses, audiences.

Fields, enums and ranges come from the v1 seed. `*Update` models are partial (only sent
fields change); `*Create` models add the required name. Server-set fields (`id`,
`goal_id`, ...) are accepted, so an object read back can be sent again, and ignored.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ExperienceType = Literal["a/b", "a/a", "mvt", "split_url", "personalization"]
ExperienceStatus = Literal["draft", "active", "paused", "completed", "scheduled", "archived"]
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
ProjectStatus = Literal["active", "inactive", "suspended"]
ScoreType = Literal["PIE", "ICE"]

AnyId = str | int
Name = Annotated[str, StringConstraints(min_length=1)]
Flag = Annotated[int, Field(ge=0, le=1)]
Percent = Annotated[float, Field(ge=0, le=100)]
NonNegative = Annotated[float, Field(ge=0)]
Day = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Rule = dict[str, Any]
Ref = AnyId | dict[str, Any]

SERVER_FIELDS = frozenset(
    {"id", "goal_id", "audience_id", "account_id", "project_id", "tracking_snippet", "created_at"}
)
# [inferred] Attribute names of the PIE / ICE models (the seed only names the models).
SCORE_ATTRIBUTES: dict[str, frozenset[str]] = {
    "PIE": frozenset({"potential", "importance", "ease"}),
    "ICE": frozenset({"impact", "confidence", "ease"}),
}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, without the server-set ones."""
        sent = self.model_dump(exclude_unset=True)
        return {k: v for k, v in sent.items() if k not in SERVER_FIELDS}

    def full(self) -> dict[str, Any]:
        """Every field, defaults included, without the server-set ones."""
        return {k: v for k, v in self.model_dump().items() if k not in SERVER_FIELDS}


class ProjectUpdate(Body):
    id: AnyId | None = None
    account_id: AnyId | None = None
    tracking_snippet: str | None = None
    created_at: str | None = None
    name: Name = ""
    status: ProjectStatus = "active"
    reporting_settings: dict[str, Any] = Field(default_factory=dict)
    include_jquery: Flag = 0
    allow_crossdomain_tracking: Flag = 0
    data_anonymization: Flag = 0
    websites: list[str] = Field(default_factory=list)
    global_javascript: str = ""


class ProjectCreate(ProjectUpdate):
    name: Name


class VariationUpdate(Body):
    id: AnyId | None = None
    name: Name = ""
    url: str = ""
    js: str = ""
    customjs: str = ""
    css: str = ""
    percentage: Percent | None = None


class VariationCreate(VariationUpdate):
    name: Name


class ExperienceUpdate(Body):
    id: AnyId | None = None
    name: Name = ""
    experience_description: str = ""
    experience_type: ExperienceType = "a/b"
    experience_status: ExperienceStatus = "draft"
    start_time: NonNegative = 0
    end_time: NonNegative = 0
    global_js: str = ""
    editor_url: str = ""
    keep_winner: bool = False
    stop_looser: bool = False
    minrun: NonNegative = 0
    maxrun: NonNegative = 0
    minordv: NonNegative = 0
    maxordv: NonNegative = 0
    minconv: NonNegative = 0
    minvis: NonNegative = 0
    maxvis: NonNegative = 0
    # [inferred] default confidence level: the usual 95 %.
    confidence: Percent = 95
    site_area: Rule = Field(default_factory=dict)
    goals: list[Ref] = Field(default_factory=list)
    audiences: list[Ref] = Field(default_factory=list)
    variations: list[VariationUpdate] = Field(default_factory=list)


class ExperienceCreate(ExperienceUpdate):
    name: Name


class GoalUpdate(Body):
    goal_id: AnyId | None = None
    goal_name: Name = ""
    description: str = ""
    triggering_rule: Rule = Field(default_factory=dict)
    goal_type: GoalType = "advanced"
    dom_interaction: list[dict[str, Any]] = Field(default_factory=list)


class GoalCreate(GoalUpdate):
    goal_name: Name


class AudienceUpdate(Body):
    audience_id: AnyId | None = None
    audience_name: Name = ""
    description: str = ""
    firing_rule: Rule = Field(default_factory=dict)
    audience_type: AudienceType = "permanent"


class AudienceCreate(AudienceUpdate):
    audience_name: Name


class HypothesisUpdate(Body):
    id: AnyId | None = None
    project_id: AnyId | None = None
    created_at: str | None = None
    name: Name = ""
    objective: str = ""
    prioritization_score: NonNegative | None = None
    prioritization_score_type: ScoreType = "PIE"
    prioritization_score_attributes: dict[str, NonNegative] = Field(default_factory=dict)
    status: ExperienceStatus = "draft"
    start_date: Day = ""
    end_date: Day = ""
    tags: list[dict[str, Any]] = Field(default_factory=list)
    summary: str = ""


class HypothesisCreate(HypothesisUpdate):
    name: Name


class HypothesisStatusChange(Body):
    status: ExperienceStatus
