"""The ingress checks each event's data against the catalog, for both providers."""

from __future__ import annotations

from typing import Any

import pytest

from expbridge.config.file import FileConfig
from expbridge.config.settings import Settings
from expbridge.events.catalog import parse_data
from expbridge.events.envelope import EventEnvelope
from expbridge.service.validation import resolve_target, validate_event
from tests.conftest import Ingress, running_ingress
from tests.helpers import accept_event, queued_jobs

EXP = {"provider": "convert", "project_id": "1001", "experience_id": "2002"}


async def test_convert_aliases_from_the_config_file(settings: Settings) -> None:
    aliases = {"hero": EXP, "shop": {"provider": "convert", "project_id": "1001"}}
    async with running_ingress(settings, FileConfig(targets=aliases)) as ingress:
        started = await accept_event(
            ingress, {"type": "experiment.start", "data": {"target": {"alias": "hero"}}}
        )
        goal = {"goal_name": "Buy"}
        created = await accept_event(
            ingress, {"type": "goal.create", "data": {"target": {"alias": "shop"}, "goal": goal}}
        )
        assert (await ingress.get_record(started))["target"] == "convert:1001/2002"
        assert (await ingress.get_record(created))["target"] == "convert:1001"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (
            {
                "type": "experiment.create",
                "data": {
                    "target": {"provider": "convert", "project_id": "1001"},
                    "experience": {"name": "A", "variations": [{"name": "B"}]},
                },
            },
            "data.experience.variations",
        ),
        ({"type": "experiment.start", "data": {"target": {**EXP, "goal_id": "77"}}}, "data.target"),
        (
            {
                "type": "experiment.start",
                "data": {"target": {"provider": "convert", "project_id": "1001"}},
            },
            "data.target",
        ),
        (
            {
                "type": "experiment.create",
                "data": {
                    "target": {"provider": "qonversion", "experiment_id": "exp_1"},
                    "experiment": {"name": "A", "alias_id": "a"},
                },
            },
            "data.target",
        ),
        (
            {
                "type": "goal.create",
                "data": {
                    "target": {"provider": "convert", "project_id": "1001"},
                    "goal": {"goal_name": "G", "goal_type": "pageview"},
                },
            },
            "data.goal.goal_type",
        ),
        (
            {
                "type": "hypothesis.create",
                "data": {
                    "target": {"provider": "convert", "project_id": "1001"},
                    "hypothesis": {
                        "name": "H",
                        "prioritization_score_type": "PIE",
                        "prioritization_score_attributes": {"impact": 2},
                    },
                },
            },
            "data.hypothesis",
        ),
        (
            {
                "type": "experiment.update",
                "data": {"target": EXP, "changes": {"experience_status": "live"}},
            },
            "data.changes.experience_status",
        ),
    ],
)
async def test_schema_errors_are_422_with_nothing_enqueued(
    ingress: Ingress, settings: Settings, event: dict[str, Any], field: str
) -> None:
    response = await ingress.post_event(event)
    assert response.status == 422, await response.text()
    body = await response.json()
    fields = [error["field"] for error in body["errors"]]
    assert any(f.startswith(field) for f in fields), fields
    assert await queued_jobs(settings) == 0


@pytest.mark.parametrize(
    "target",
    [
        {"provider": "qonversion", "experiment_id": "exp_1"},
        {"provider": "convert", "project_id": 1001, "experience_id": 2002},
        {"provider": "convert", "project_id": "1001", "experience_id": "2002", "goal_id": None},
    ],
)
def test_one_validation_of_a_target_of_fields_gives_what_two_give(target: dict[str, Any]) -> None:
    """validate_event validates a target of fields once, in the catalog model; resolving the
    target first (as for an alias) gives the same data."""
    envelope = EventEnvelope(type="experiment.start", data={"target": target})
    fast = validate_event(envelope, {}).data
    fields = resolve_target(target, {}).model_dump(exclude_none=True)
    careful = parse_data(envelope.type, {"target": fields})
    assert fast == careful
    assert fast.model_dump(mode="json", exclude_unset=True, exclude_none=True) == (
        careful.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    )
