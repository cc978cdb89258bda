"""The normalised report report.fetch stores in the status record, the same for every provider.

Units: `conversion_rate`, `change_vs_baseline`, `confidence` and `chance_to_win` are
fractions (0.125 = 12.5 %; a change of 0.25 = 25 % better than the baseline). A value the
provider does not give is null.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class ReportVariation(BaseModel):
    id: str
    name: str | None
    is_baseline: bool
    visitors: int
    conversions: int
    conversion_rate: float | None
    change_vs_baseline: float | None
    confidence: float | None
    chance_to_win: float | None


class QonversionReport(BaseModel):
    provider: Literal["qonversion"] = "qonversion"
    experiment_id: str
    goal_id: str | None = None
    variations: list[ReportVariation]


class ConvertReport(BaseModel):
    provider: Literal["convert"] = "convert"
    experience_id: str
    goal_id: str | None
    variations: list[ReportVariation]
