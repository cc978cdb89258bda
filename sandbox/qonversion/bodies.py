"""Request bodies and path rules of the Qonversion v4 experiment endpoints (from the seed)."""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

ID_PATTERN = r"^[a-zA-Z0-9._-]+$"
ID_RE = re.compile(ID_PATTERN)
EXPERIMENT_ID_MAX = 256
ALIAS_ID_MAX = 64
GROUP_ID_MAX = 64

ExperimentStatus = Literal["draft", "active", "paused", "finished"]
AliasId = Annotated[str, StringConstraints(max_length=ALIAS_ID_MAX, pattern=ID_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1)]


def _underscore_metric(value: str | None) -> str | None:
    # The seed: hyphenated metrics are legacy read-only forms, to be migrated before PATCH.
    if value is not None and "-" in value:
        fixed = value.replace("-", "_")
        raise ValueError(f"hyphenated metric names are read-only legacy forms; send {fixed!r}")
    return value


MetricName = Annotated[str, AfterValidator(_underscore_metric)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ExperimentPatch(_Strict):
    """PATCH body: all optional; only provided fields change. name/alias_id not nullable."""

    name: Name = ""
    alias_id: AliasId = ""
    description: str | None = None
    # [inferred] a percentage, so 0..100.
    segment_percent: float | None = Field(default=None, ge=0, le=100)
    primary_metric: MetricName | None = None
    goal_value: float | None = None
    goal_direction: str | None = None
    context_key: str | None = None
    is_context_specific: bool | None = None


class ExperimentCreate(ExperimentPatch):
    name: Name
    alias_id: AliasId


class StatusChange(_Strict):
    status: ExperimentStatus


class GroupCreate(_Strict):
    weight: float = Field(ge=0, le=100)
    name: str = ""
    is_control: bool = False
    remote_config_uid: str | None = None


class UserAttach(_Strict):
    group_id: Annotated[str, StringConstraints(min_length=1, max_length=GROUP_ID_MAX)]


# [inferred] Nulls on PATCH for fields the response types as non-null reset the default.
NULL_RESETS: dict[str, object] = {
    "description": "",
    "context_key": "",
    "is_context_specific": False,
}

# Valid status moves; setting the current status again is a no-op, handled separately.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"active"}),
    "active": frozenset({"paused", "finished"}),
    "paused": frozenset({"active", "finished"}),
    "finished": frozenset(),
}


def id_problems(field: str, value: str, max_length: int = EXPERIMENT_ID_MAX) -> list[str]:
    problems = []
    if len(value) > max_length:
        problems.append(f"{field} must be at most {max_length} characters")
    if not ID_RE.match(value):
        problems.append(f"{field} must match {ID_PATTERN}")
    return problems
