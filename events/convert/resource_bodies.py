"""Convert request bodies for goals, audiences and hypotheses (fields of the v1 seed)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from expbridge.events.convert.common import (
    AudienceType,
    Changes,
    ConvertBody,
    Day,
    GoalType,
    Name,
    Rule,
    ScoreType,
    Status,
)

# [inferred] The seed's list filters bound scores to 0..5 (scoreMin/scoreMax enums), so the
# score and its attributes are read as 0..5.
Score = Annotated[float, Field(ge=0, le=5)]
# [inferred] The seed names the PIE / ICE attribute schemas without their fields; these are
# the models' usual parts.
SCORE_ATTRIBUTES: dict[str, frozenset[str]] = {
    "PIE": frozenset({"potential", "importance", "ease"}),
    "ICE": frozenset({"impact", "confidence", "ease"}),
}


class GoalFields(ConvertBody):
    goal_name: Name | None = None
    description: str | None = None
    triggering_rule: Rule | None = None
    goal_type: GoalType | None = None
    dom_interaction: list[dict[str, Any]] | None = None


class GoalCreate(GoalFields):
    goal_name: Name


class GoalChanges(GoalFields, Changes):
    pass


class AudienceFields(ConvertBody):
    audience_name: Name | None = None
    description: str | None = None
    firing_rule: Rule | None = None
    audience_type: AudienceType | None = None


class AudienceCreate(AudienceFields):
    audience_name: Name


class AudienceChanges(AudienceFields, Changes):
    pass


class ScoreAttributes(BaseModel):
    """PIE (potential, importance, ease) or ICE (impact, confidence, ease) attributes."""

    model_config = ConfigDict(extra="forbid")

    potential: Score | None = None
    importance: Score | None = None
    impact: Score | None = None
    confidence: Score | None = None
    ease: Score | None = None

    def named(self) -> set[str]:
        return {name for name in self.model_fields_set if getattr(self, name) is not None}


class HypothesisFields(ConvertBody):
    name: Name | None = None
    objective: str | None = None
    prioritization_score: Score | None = None
    prioritization_score_type: ScoreType | None = None
    prioritization_score_attributes: ScoreAttributes | None = None
    status: Status | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    tags: list[dict[str, Any]] | None = None
    summary: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> HypothesisFields:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        attributes = self.prioritization_score_attributes
        if attributes is None:
            return self
        named = attributes.named()
        fitting = [t for t, allowed in SCORE_ATTRIBUTES.items() if named <= allowed]
        score_type = self.prioritization_score_type
        if not fitting or (score_type is not None and score_type not in fitting):
            model = score_type or "PIE or ICE"
            raise ValueError(
                f"prioritization_score_attributes {sorted(named)} do not fit {model} "
                "(PIE: potential, importance, ease; ICE: impact, confidence, ease)"
            )
        return self


class HypothesisCreate(HypothesisFields):
    name: Name


class HypothesisChanges(HypothesisFields, Changes):
    pass
