"""Targets: the union of providers, their ids, and the ordering keys they give."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from expbridge.events.targets import AnyTarget, ConvertTarget, QonversionTarget, Target

TARGETS: TypeAdapter[AnyTarget] = TypeAdapter(Target)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"provider": "qonversion", "experiment_id": "exp_8f3a"}, "qonversion:exp_8f3a"),
        (
            {"provider": "convert", "project_id": "1001", "experience_id": "2002"},
            "convert:1001/2002",
        ),
        ({"provider": "convert", "project_id": 1001, "experience_id": 2002}, "convert:1001/2002"),
        ({"provider": "convert", "project_id": "1001", "goal_id": "77"}, "convert:1001/goal:77"),
        (
            {"provider": "convert", "project_id": "1001", "hypothesis_id": "5"},
            "convert:1001/hypothesis:5",
        ),
        (
            {"provider": "convert", "project_id": "1001", "audience_id": "9"},
            "convert:1001/audience:9",
        ),
        ({"provider": "convert", "project_id": "1001"}, "convert:1001"),
        ({"provider": "convert"}, "convert:projects"),
    ],
)
def test_ordering_keys(raw: dict[str, Any], key: str) -> None:
    assert TARGETS.validate_python(raw).ordering_key == key


def test_the_provider_picks_the_model() -> None:
    assert isinstance(TARGETS.validate_python({"provider": "qonversion"}), QonversionTarget)
    assert isinstance(TARGETS.validate_python({"provider": "convert"}), ConvertTarget)


@pytest.mark.parametrize(
    "raw",
    [
        {"provider": "convert", "project_id": "1001", "experience_id": "2", "goal_id": "3"},
        {"provider": "convert", "experience_id": "2002"},
        {"provider": "convert", "project_id": "10/01"},
        {"provider": "convert", "project_id": "1001", "goal_id": "x" * 65},
        {"provider": "convert", "project_id": "1001", "experiment_id": "2002"},
        {"provider": "qonversion", "experiment_id": "has spaces"},
        {"provider": "qonversion", "experiment_id": "x" * 257},
        {"provider": "qonversion", "project_id": "1001"},
        {"provider": "optimizely", "experiment_id": "1"},
    ],
)
def test_invalid_targets(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TARGETS.validate_python(raw)
