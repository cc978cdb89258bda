from __future__ import annotations

import click
import pytest

from expbridge.cli.send import parse_target


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("qonversion:exp_1", {"provider": "qonversion", "experiment_id": "exp_1"}),
        ("qonversion", {"provider": "qonversion"}),
        ("convert", {"provider": "convert"}),
        ("convert:1001", {"provider": "convert", "project_id": "1001"}),
        (
            "convert:1001/2002",
            {"provider": "convert", "project_id": "1001", "experience_id": "2002"},
        ),
        ("convert:1001/goal:7", {"provider": "convert", "project_id": "1001", "goal_id": "7"}),
        (
            "convert:1/hypothesis:8",
            {"provider": "convert", "project_id": "1", "hypothesis_id": "8"},
        ),
        ("convert:1/audience:9", {"provider": "convert", "project_id": "1", "audience_id": "9"}),
        ("paywall-test", {"alias": "paywall-test"}),
    ],
)
def test_target_forms(text: str, target: dict[str, str]) -> None:
    assert parse_target(text) == target


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(click.BadParameter):
        parse_target("optimizely:1")
