"""Request bodies: the enums, constraints and migrations of the seeds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from expbridge.events.convert.bodies import ExperienceChanges, ExperienceCreate, ProjectCreate
from expbridge.events.convert.resource_bodies import (
    AudienceCreate,
    GoalCreate,
    HypothesisChanges,
    HypothesisCreate,
)
from expbridge.events.qonversion.bodies import ExperimentChanges, ExperimentCreate, GroupCreate


def test_legacy_hyphenated_metrics_are_sent_with_underscores() -> None:
    create = ExperimentCreate.model_validate(
        {"name": "A", "alias_id": "a", "primary_metric": "subscription-cancellation"}
    )
    assert create.body() == {
        "name": "A",
        "alias_id": "a",
        "primary_metric": "subscription_cancellation",
    }
    changes = ExperimentChanges.model_validate({"primary_metric": "user-to-trial"})
    assert changes.patch_body() == {"primary_metric": "user_to_trial"}


def test_only_named_fields_are_sent_nulls_included() -> None:
    assert ExperimentChanges.model_validate({"goal_value": None}).patch_body() == {
        "goal_value": None
    }
    body = ExperienceChanges.model_validate({"confidence": 90}).body()
    assert body == {"confidence": 90.0}
    assert GroupCreate.model_validate({"weight": 50, "name": "B"}).body() == {
        "weight": 50.0,
        "name": "B",
    }


@pytest.mark.parametrize(
    ("model", "raw"),
    [
        (ExperimentCreate, {"name": "A", "alias_id": "x" * 65}),
        (ExperimentCreate, {"name": "A", "alias_id": "not valid!"}),
        (ExperimentCreate, {"name": "", "alias_id": "a"}),
        (ExperimentChanges, {"name": None}),
        (ExperimentChanges, {"alias_id": None}),
        (ExperimentChanges, {"segment_percent": 101}),
        (ExperimentChanges, {"status": "active"}),
        (ExperienceCreate, {"name": "A", "experience_type": "split"}),
        (ExperienceCreate, {"name": "A", "experience_status": "running"}),
        (ExperienceCreate, {"name": "A", "confidence": 120}),
        (ExperienceCreate, {"name": "A", "minrun": -1}),
        (ExperienceCreate, {"name": "A", "id": "2002"}),
        (ExperienceCreate, {"experience_type": "a/b"}),
        (ExperienceChanges, {"name": None}),
        (ExperienceChanges, {}),
        (ProjectCreate, {"name": "A", "status": "deleted"}),
        (ProjectCreate, {"name": "A", "include_jquery": 2}),
        (ProjectCreate, {"name": "A", "tracking_snippet": "<script>"}),
        (GoalCreate, {"goal_name": "G", "goal_type": "pageview"}),
        (GoalCreate, {"goal_name": "G", "goal_id": "77"}),
        (AudienceCreate, {"audience_name": "A", "audience_type": "sticky"}),
        (HypothesisCreate, {"name": "H", "prioritization_score_type": "RICE"}),
        (HypothesisCreate, {"name": "H", "prioritization_score": 6}),
        (HypothesisCreate, {"name": "H", "status": "running"}),
        (HypothesisCreate, {"name": "H", "start_date": "1/2/26"}),
        (HypothesisCreate, {"name": "H", "start_date": "2026-11-02", "end_date": "2026-11-01"}),
        (
            HypothesisCreate,
            {
                "name": "H",
                "prioritization_score_type": "PIE",
                "prioritization_score_attributes": {"impact": 3},
            },
        ),
        (
            HypothesisCreate,
            {"name": "H", "prioritization_score_attributes": {"potential": 3, "impact": 3}},
        ),
        (HypothesisCreate, {"name": "H", "prioritization_score_attributes": {"ease": 9}}),
        (HypothesisChanges, {"prioritization_score_attributes": {"reach": 1}}),
    ],
)
def test_constraints_of_the_seeds(model: type[BaseModel], raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(raw)


@pytest.mark.parametrize(
    ("model", "raw"),
    [
        (
            ExperienceCreate,
            {"name": "A", "experience_type": "split_url", "goals": ["77", 78, {"id": "79"}]},
        ),
        (
            GoalCreate,
            {
                "goal_name": "G",
                "goal_type": "DOM_interaction",
                "dom_interaction": [{"event": "click", "selector": "#buy"}],
            },
        ),
        (
            AudienceCreate,
            {"audience_name": "A", "audience_type": "segmentation", "firing_rule": {"OR": []}},
        ),
        (
            HypothesisCreate,
            {
                "name": "H",
                "prioritization_score_type": "ICE",
                "prioritization_score_attributes": {"impact": 4, "confidence": 3.5, "ease": 0},
            },
        ),
        (HypothesisCreate, {"name": "H", "prioritization_score_attributes": {"potential": 5}}),
        (
            HypothesisCreate,
            {
                "name": "H",
                "status": "scheduled",
                "start_date": "2026-11-01",
                "end_date": "2026-12-01",
                "tags": [{"name": "checkout"}],
            },
        ),
        (
            ProjectCreate,
            {
                "name": "Shop",
                "status": "inactive",
                "websites": ["a.example"],
                "data_anonymization": 1,
            },
        ),
    ],
)
def test_valid_bodies(model: type[BaseModel], raw: dict[str, Any]) -> None:
    parsed = model.model_validate(raw)
    # The request body sent upstream says exactly what the event said: nothing dropped,
    # nothing added, numbers and nested objects kept (4 reads back as 4.0), and it is JSON.
    body = parsed.body()  # type: ignore[attr-defined]
    assert body == raw
    assert json.loads(json.dumps(body)) == raw
