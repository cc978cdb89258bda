"""Qonversion v4 response objects (seed: the experiment object)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class Experiment(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: str = "experiment"
    id: str
    url: str | None = None
    name: str | None = None
    alias_id: str | None = None
    description: str | None = None
    status: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    segment_percent: float | None = None
    primary_metric: str | None = None
    goal_value: float | None = None
    goal_direction: str | None = None
    context_key: str | None = None
    is_context_specific: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
