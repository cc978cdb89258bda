"""Convert request bodies for projects, experiences and variations (fields of the v1 seed).

Server-set fields (`id`, `account_id`, `tracking_snippet`, `created_at`) are not accepted.
"""

from __future__ import annotations

from pydantic import Field, StrictBool

from expbridge.events.convert.common import (
    Changes,
    ConvertBody,
    ExperienceType,
    Flag,
    Name,
    NonNegative,
    Percent,
    ProjectStatus,
    Ref,
    Rule,
    Status,
)


class ProjectFields(ConvertBody):
    name: Name | None = None
    status: ProjectStatus | None = None
    reporting_settings: Rule | None = None
    include_jquery: Flag | None = None
    allow_crossdomain_tracking: Flag | None = None
    data_anonymization: Flag | None = None
    websites: list[str] | None = None
    global_javascript: str | None = None


class ProjectCreate(ProjectFields):
    name: Name


class ProjectChanges(ProjectFields, Changes):
    pass


class ExperienceFields(ConvertBody):
    """No `variations`: the seed says they are ignored here; use variation.add/remove."""

    name: Name | None = None
    experience_description: str | None = None
    experience_type: ExperienceType | None = None
    experience_status: Status | None = None
    start_time: NonNegative | None = None
    end_time: NonNegative | None = None
    global_js: str | None = None
    editor_url: str | None = None
    keep_winner: StrictBool | None = None
    stop_looser: StrictBool | None = None
    minrun: NonNegative | None = None
    maxrun: NonNegative | None = None
    minordv: NonNegative | None = None
    maxordv: NonNegative | None = None
    minconv: NonNegative | None = None
    minvis: NonNegative | None = None
    maxvis: NonNegative | None = None
    confidence: Percent | None = Field(default=None, description="confidence level in %")
    site_area: Rule | None = None
    goals: list[Ref] | None = None
    audiences: list[Ref] | None = None


class ExperienceCreate(ExperienceFields):
    name: Name


class ExperienceChanges(ExperienceFields, Changes):
    pass


class VariationCreate(ConvertBody):
    """The seed's variation add body, without the server-set id."""

    # Optional upstream, required here: after an attempt with an unknown outcome the worker
    # finds the variation by name instead of adding a second one.
    name: Name
    url: str | None = None
    js: str | None = None
    customjs: str | None = None
    css: str | None = None
    percentage: Percent | None = None
