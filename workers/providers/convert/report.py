"""Convert experience reports, read and normalised. [inferred] throughout: v1 publishes no
report shape, and providers.md says to read both versions with the v2 aggregated shape:

    {"data": {"experience_id", "goals": [{"goal_id", "goal_name", "variations": [
        {"variation_id", "variation_name", "is_baseline", "visitors", "metrics": [
            {"metric_type", "metric_total", "metric_value", "metric_change",
             "confidence", "statistically_significant", "chance_to_win"}]}]}]}}

Units [inferred]: metric_value, metric_change and confidence in percent; chance_to_win
0-100 (documented).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from expbridge.workers.providers.reports import ConvertReport, ReportVariation

CONVERSION_METRIC = "conversion_rate"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class Metric(_Lenient):
    metric_type: str | None = None
    metric_total: float | None = None
    metric_value: float | None = None
    metric_change: float | None = None
    confidence: float | None = None
    statistically_significant: bool | None = None
    chance_to_win: float | None = None


class VariationResult(_Lenient):
    variation_id: str
    variation_name: str | None = None
    is_baseline: bool = False
    visitors: int = 0
    metrics: list[Metric] = Field(default_factory=list)

    def conversion_metric(self) -> Metric:
        found = [m for m in self.metrics if m.metric_type == CONVERSION_METRIC]
        return (found or self.metrics or [Metric()])[0]


class GoalResult(_Lenient):
    goal_id: str
    goal_name: str | None = None
    variations: list[VariationResult] = Field(default_factory=list)


class ReportData(_Lenient):
    experience_id: str | None = None
    goals: list[GoalResult] = Field(default_factory=list)


class ReportEnvelope(_Lenient):
    data: ReportData


def _fraction(percent: float | None) -> float | None:
    return None if percent is None else round(percent / 100, 6)


def _variation(result: VariationResult, index: int, any_baseline: bool) -> ReportVariation:
    metric = result.conversion_metric()
    is_baseline = result.is_baseline if any_baseline else index == 0
    return ReportVariation(
        id=result.variation_id,
        name=result.variation_name,
        is_baseline=is_baseline,
        visitors=result.visitors,
        conversions=int(metric.metric_total or 0),
        conversion_rate=_fraction(metric.metric_value),
        change_vs_baseline=None if is_baseline else _fraction(metric.metric_change),
        confidence=None if is_baseline else _fraction(metric.confidence),
        chance_to_win=_fraction(metric.chance_to_win),
    )


def normalise_convert_report(raw: object, experience_id: str, goal_id: str | None) -> ConvertReport:
    """The named goal's results, or the first goal's (the experience's primary) when none."""
    report = ReportEnvelope.model_validate(raw).data
    goals = report.goals
    goal = next((g for g in goals if g.goal_id == goal_id), None) if goal_id else None
    if goal is None and goals and goal_id is None:
        goal = goals[0]
    if goal is None:
        return ConvertReport(experience_id=experience_id, goal_id=goal_id, variations=[])
    any_baseline = any(v.is_baseline for v in goal.variations)
    rows = [_variation(v, i, any_baseline) for i, v in enumerate(goal.variations)]
    return ConvertReport(experience_id=experience_id, goal_id=goal.goal_id, variations=rows)
