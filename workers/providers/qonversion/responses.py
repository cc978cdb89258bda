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


class ExperimentList(BaseModel):
    """GET /experiments: a cursor page (`starting_after` = the last id of this page)."""

    model_config = ConfigDict(extra="allow")

    object: str = "list"
    data: list[Experiment]
    has_more: bool = False


class Group(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: str = "group"
    id: str
    name: str | None = None
    weight: float | None = None
    is_control: bool | None = None
    remote_config_uid: str | None = None


class GroupList(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: str = "list"
    data: list[Group]
    has_more: bool = False


class ExperimentUser(BaseModel):
    """[inferred] What attaching a user answers; the shape is not published."""

    model_config = ConfigDict(extra="allow")

    user_id: str | None = None
    group_id: str | None = None
