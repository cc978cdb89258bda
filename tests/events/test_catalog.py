"""The catalog: the rows of design section 4, and what each event's data may say."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from expbridge.events.catalog import CATALOG

ROWS = {
    "experiment.create": ["convert", "qonversion"],
    "experiment.update": ["convert", "qonversion"],
    "experiment.start": ["convert", "qonversion"],
    "experiment.pause": ["convert", "qonversion"],
    "experiment.stop": ["convert", "qonversion"],
    "experiment.archive": ["convert"],
    "experiment.delete": ["convert", "qonversion"],
    "variation.add": ["convert", "qonversion"],
    "variation.remove": ["convert"],
    "experiment.user.attach": ["qonversion"],
    "experiment.user.detach": ["qonversion"],
    **{
        f"{kind}.{op}": ["convert"]
        for kind in ("project", "goal", "hypothesis", "audience")
        for op in ("create", "update", "delete")
    },
    "hypothesis.status": ["convert"],
    "report.fetch": ["convert", "qonversion"],
    "goal.threshold_reached": ["convert", "qonversion"],
}

QON = {"provider": "qonversion", "experiment_id": "exp_1"}
EXP = {"provider": "convert", "project_id": "1001", "experience_id": "2002"}
PROJECT = {"provider": "convert", "project_id": "1001"}


def test_every_row_of_the_design_and_its_providers() -> None:
    assert {t: spec.providers for t, spec in CATALOG.items()} == ROWS


def validate(event_type: str, provider: str, data: dict[str, Any]) -> Any:
    return CATALOG[event_type].data_models[provider].model_validate(data)


@pytest.mark.parametrize(
    ("event_type", "provider", "data", "key"),
    [
        (
            "experiment.create",
            "qonversion",
            {"target": {"provider": "qonversion"}, "experiment": {"name": "A", "alias_id": "a_1"}},
            "qonversion:alias:a_1",
        ),
        (
            "experiment.create",
            "convert",
            {"target": PROJECT, "experience": {"name": "A"}},
            "convert:1001",
        ),
        (
            "project.create",
            "convert",
            {"target": {"provider": "convert"}, "project": {"name": "Shop"}},
            "convert:projects",
        ),
        ("experiment.start", "convert", {"target": EXP}, "convert:1001/2002"),
        ("report.fetch", "convert", {"target": EXP, "goal_id": 77}, "convert:1001/2002"),
    ],
)
def test_ordering_key_of_the_data(
    event_type: str, provider: str, data: dict[str, Any], key: str
) -> None:
    assert validate(event_type, provider, data).ordering_key == key


@pytest.mark.parametrize(
    ("event_type", "provider", "data", "field"),
    [
        # The target must name what the event acts on, and nothing else.
        ("experiment.start", "qonversion", {"target": {"provider": "qonversion"}}, "target"),
        (
            "experiment.create",
            "qonversion",
            {"target": QON, "experiment": {"name": "A", "alias_id": "a"}},
            "target",
        ),
        ("experiment.start", "convert", {"target": PROJECT}, "target"),
        ("goal.update", "convert", {"target": EXP, "changes": {"goal_name": "x"}}, "target"),
        ("project.create", "convert", {"target": PROJECT, "project": {"name": "x"}}, "target"),
        # Data fields.
        (
            "experiment.create",
            "qonversion",
            {"target": {"provider": "qonversion"}, "experiment": {"name": "A"}},
            "experiment.alias_id",
        ),
        (
            "experiment.create",
            "convert",
            {"target": PROJECT, "experience": {"name": "A", "variations": [{"name": "B"}]}},
            "experience.variations",
        ),
        ("experiment.update", "convert", {"target": EXP, "changes": {}}, "changes"),
        (
            "variation.add",
            "qonversion",
            {"target": QON, "variation": {"name": "B"}},
            "variation.weight",
        ),
        (
            "variation.add",
            "qonversion",
            {"target": QON, "variation": {"name": "B", "weight": 101}},
            "variation.weight",
        ),
        ("variation.remove", "convert", {"target": EXP}, "variation_id"),
        ("experiment.user.attach", "qonversion", {"target": QON, "user_id": "u1"}, "group_id"),
        (
            "experiment.user.attach",
            "qonversion",
            {"target": QON, "user_id": "a/b", "group_id": "g"},
            "user_id",
        ),
        (
            "hypothesis.status",
            "convert",
            {"target": {**PROJECT, "hypothesis_id": "5"}, "status": "running"},
            "status",
        ),
        ("report.fetch", "convert", {"target": EXP, "start_timestamp": 10, "end_timestamp": 5}, ""),
        ("report.fetch", "qonversion", {"target": QON, "goal_id": "77"}, "goal_id"),
        ("experiment.start", "convert", {"target": EXP, "extra": 1}, "extra"),
    ],
)
def test_invalid_data(event_type: str, provider: str, data: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate(event_type, provider, data)
    fields = [".".join(str(p) for p in e["loc"]) for e in caught.value.errors()]
    assert any(f.startswith(field) for f in fields), fields
