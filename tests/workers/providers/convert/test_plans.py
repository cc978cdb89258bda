"""Every catalog row Convert supports, end to end over API v1 and v2: the event is posted to the
real ingress, a burst worker carries it out against the sandbox over signed HTTP, and the
sandbox's state changes as the v1 seed says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from expbridge.config.settings import Settings
from tests.conftest import Ingress
from tests.helpers import (
    carry_out,
    convert_overrides,
    queued_jobs,
    sandbox_requests,
    sandbox_state,
    seed_sandbox,
    stored_event_count,
)
from tests.workers.providers.convert.seed import (
    AUDIENCE,
    BASELINE,
    EXPERIENCE,
    GOAL,
    HYPOTHESIS,
    PROJECT,
    VARIANT,
    seed,
)

State = dict[str, Any]
Record = dict[str, Any]


@dataclass(frozen=True)
class Case:
    type: str
    target: dict[str, str]
    data: dict[str, Any]
    check: Callable[[State, Record], None]
    experience: dict[str, Any] = field(default_factory=dict)


def in_project(kind: str) -> dict[str, str]:
    return {
        "project_id": PROJECT,
        f"{kind}_id": {
            "experience": EXPERIENCE,
            "goal": GOAL,
            "hypothesis": HYPOTHESIS,
            "audience": AUDIENCE,
        }[kind],
    }


def named(state: State, kind: str, name_field: str, name: str) -> list[dict[str, Any]]:
    return [o for o in state["convert"][kind].values() if o.get(name_field) == name]


def experience(state: State) -> dict[str, Any]:
    found: dict[str, Any] = state["convert"]["experiences"][EXPERIENCE]
    return found


def check_created(kind: str, name_field: str, name: str, **fields: Any) -> Callable[..., None]:
    def check(state: State, record: Record) -> None:
        (obj,) = named(state, kind, name_field, name)
        assert {k: obj[k] for k in fields} == fields
        assert kind == "projects" or obj["project_id"] == PROJECT
        id_field = {"goals": "goal_id", "audiences": "audience_id"}.get(kind, "id")
        assert str(record["result"][id_field]) == str(obj[id_field])

    return check


def check_fields(kind: str, oid: str, **fields: Any) -> Callable[..., None]:
    def check(state: State, record: Record) -> None:
        obj = state["convert"][kind][oid]
        assert {k: obj[k] for k in fields} == fields

    return check


def check_gone(kind: str, oid: str) -> Callable[..., None]:
    def check(state: State, record: Record) -> None:
        assert oid not in state["convert"][kind]

    return check


def check_status(status: str, time_field: str | None = None) -> Callable[..., None]:
    def check(state: State, record: Record) -> None:
        assert experience(state)["experience_status"] == status
        assert record["result"]["experience_status"] == status
        if time_field:
            assert experience(state)[time_field] > 0

    return check


def check_variations(*names: str) -> Callable[..., None]:
    def check(state: State, record: Record) -> None:
        assert [v["name"] for v in experience(state)["variations"]] == list(names)

    return check


CASES = [
    Case(
        "experiment.create",
        {"project_id": PROJECT},
        {"experience": {"name": "Checkout", "experience_type": "a/b", "goals": [GOAL]}},
        check_created("experiences", "name", "Checkout", experience_type="a/b"),
    ),
    Case(
        "experiment.update",
        in_project("experience"),
        {"changes": {"name": "Hero v2", "confidence": 90}},
        check_fields(
            "experiences", EXPERIENCE, name="Hero v2", confidence=90, experience_type="a/b"
        ),
    ),
    Case("experiment.start", in_project("experience"), {}, check_status("active", "start_time")),
    Case(
        "experiment.pause",
        in_project("experience"),
        {},
        check_status("paused"),
        {"experience_status": "active"},
    ),
    Case(
        "experiment.stop",
        in_project("experience"),
        {},
        check_status("completed", "end_time"),
        {"experience_status": "active"},
    ),
    Case(
        "experiment.archive",
        in_project("experience"),
        {},
        check_status("archived"),
        {"experience_status": "completed"},
    ),
    Case("experiment.delete", in_project("experience"), {}, check_gone("experiences", EXPERIENCE)),
    Case(
        "variation.add",
        in_project("experience"),
        {"variation": {"name": "C", "css": "a{}"}},
        check_variations("Original", "B", "C"),
    ),
    Case(
        "variation.remove",
        in_project("experience"),
        {"variation_id": VARIANT},
        check_variations("Original"),
    ),
    Case(
        "project.create",
        {},
        {"project": {"name": "Blog", "websites": ["blog.example"]}},
        check_created("projects", "name", "Blog", websites=["blog.example"]),
    ),
    Case(
        "project.update",
        {"project_id": PROJECT},
        {"changes": {"name": "Store"}},
        check_fields("projects", PROJECT, name="Store"),
    ),
    Case("project.delete", {"project_id": PROJECT}, {}, check_gone("projects", PROJECT)),
    Case(
        "goal.create",
        {"project_id": PROJECT},
        {"goal": {"goal_name": "Signup", "goal_type": "submits_form"}},
        check_created("goals", "goal_name", "Signup", goal_type="submits_form"),
    ),
    Case(
        "goal.update",
        in_project("goal"),
        {"changes": {"description": "checkout"}},
        check_fields("goals", GOAL, description="checkout", goal_name="Buy"),
    ),
    Case("goal.delete", in_project("goal"), {}, check_gone("goals", GOAL)),
    Case(
        "hypothesis.create",
        {"project_id": PROJECT},
        {
            "hypothesis": {
                "name": "Bigger button",
                "prioritization_score_type": "ICE",
                "prioritization_score_attributes": {"impact": 4, "confidence": 3, "ease": 2},
            }
        },
        check_created("hypotheses", "name", "Bigger button", prioritization_score="3"),
    ),
    Case(
        "hypothesis.update",
        in_project("hypothesis"),
        {"changes": {"summary": "s"}},
        check_fields("hypotheses", HYPOTHESIS, summary="s", name="Shorter form"),
    ),
    Case(
        "hypothesis.status",
        in_project("hypothesis"),
        {"status": "active"},
        check_fields("hypotheses", HYPOTHESIS, status="active"),
    ),
    Case("hypothesis.delete", in_project("hypothesis"), {}, check_gone("hypotheses", HYPOTHESIS)),
    Case(
        "audience.create",
        {"project_id": PROJECT},
        {"audience": {"audience_name": "New", "audience_type": "transient"}},
        check_created("audiences", "audience_name", "New", audience_type="transient"),
    ),
    Case(
        "audience.update",
        in_project("audience"),
        {"changes": {"description": "d"}},
        check_fields("audiences", AUDIENCE, description="d", audience_name="Back"),
    ),
    Case("audience.delete", in_project("audience"), {}, check_gone("audiences", AUDIENCE)),
]


@pytest.fixture(params=["v1", "v2"])
def worker_settings(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], sandbox: Any
) -> Settings:
    return make_settings(convert=convert_overrides(sandbox.url, request.param))


def event_of(case: Case) -> dict[str, Any]:
    return {
        "type": case.type,
        "data": {"target": {"provider": "convert", **case.target}, **case.data},
    }


@pytest.mark.parametrize("case", CASES, ids=[c.type for c in CASES])
async def test_event_reaches_convert(
    ingress: Ingress, worker_settings: Settings, sandbox: Any, case: Case
) -> None:
    await seed_sandbox(sandbox.url, convert=seed(**case.experience))
    record = await carry_out(ingress, worker_settings, event_of(case))

    assert record["status"] == "succeeded", record
    assert [s["status"] for s in record["steps"]] == ["done"]
    case.check(await sandbox_state(sandbox.url), record)
    version = worker_settings.convert.api_version
    calls = await sandbox_requests(sandbox.url, f"/convert/api/{version}/")
    assert calls and all(c["status"] < 300 for c in calls)
    assert all(c["headers"]["Authorization"].startswith("Convert-HMAC-SHA256") for c in calls)
    mutating = [c for c in calls if c["method"] != "GET" and "report" not in c["path"]]
    assert all(c["idempotency_key"] == record["steps"][0]["idempotency_key"] for c in mutating)


@pytest.mark.parametrize("event_type", ["experiment.user.attach", "experiment.user.detach"])
async def test_user_operations_are_422_on_convert(
    ingress: Ingress, settings: Settings, event_type: str
) -> None:
    target = {"provider": "convert", **in_project("experience")}
    data = {"target": target, "user_id": "user-1", "group_id": BASELINE}
    response = await ingress.post_event({"type": event_type, "data": data})
    assert response.status == 422
    body = await response.json()
    assert f"{event_type} is not supported by convert (supported by: qonversion)" in body["detail"]
    assert await queued_jobs(settings) == 0
    assert await stored_event_count(settings) == 0
