"""GET /experiments/summary, read and normalised. [inferred] throughout: the response shape is
not published. Read as

    {"object": "list", "data": [{"experiment_id", "status", "primary_metric", "groups": [
        {"id", "name", "is_control", "users", "conversions", "conversion_rate" (0..1),
         "uplift" (vs control, a fraction), "probability_to_beat_control" (0..1)}]}]}
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from expbridge.workers.providers.reports import QonversionReport, ReportVariation

FILTER_PARAM = "filter[experiment_uid][]"
MAX_IDS = 50


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class GroupResult(_Lenient):
    id: str
    name: str | None = None
    is_control: bool = False
    users: int = 0
    conversions: int = 0
    conversion_rate: float | None = None
    uplift: float | None = None
    probability_to_beat_control: float | None = None


class ExperimentSummary(_Lenient):
    experiment_id: str
    status: str | None = None
    primary_metric: str | None = None
    groups: list[GroupResult] = Field(default_factory=list)


class SummaryList(_Lenient):
    data: list[ExperimentSummary] = Field(default_factory=list)


def _variation(group: GroupResult, is_baseline: bool) -> ReportVariation:
    rate = group.conversion_rate
    if rate is None and group.users:
        rate = group.conversions / group.users
    return ReportVariation(
        id=group.id,
        name=group.name,
        is_baseline=is_baseline,
        visitors=group.users,
        conversions=group.conversions,
        conversion_rate=rate,
        change_vs_baseline=None if is_baseline else group.uplift,
        confidence=None,  # not given by the summary
        chance_to_win=None if is_baseline else group.probability_to_beat_control,
    )


def normalise_summary(raw: object, experiment_id: str) -> QonversionReport:
    """The summary of `experiment_id` (matched by id, else the only one answered)."""
    summaries = SummaryList.model_validate(raw).data
    summary = next((s for s in summaries if s.experiment_id == experiment_id), None)
    if summary is None and len(summaries) == 1:
        summary = summaries[0]
    if summary is None:
        return QonversionReport(experiment_id=experiment_id, variations=[])
    groups = summary.groups
    control = next((i for i, g in enumerate(groups) if g.is_control), 0)
    rows = [_variation(g, i == control) for i, g in enumerate(groups)]
    return QonversionReport(experiment_id=summary.experiment_id, variations=rows)
