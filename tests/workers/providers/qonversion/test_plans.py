"""Every catalog row Qonversion supports, end to end: the event is posted to the real ingress,
a burst worker carries it out against the sandbox over HTTP, and the sandbox's state changes
as the seed and providers.md say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from expbridge.config.settings import Settings
from tests.conftest import Ingress
from tests.helpers import (
    carry_out,
    queued_jobs,
    sandbox_requests,
    sandbox_state,
    seed_sandbox,
    stored_event_count,
)

State = dict[str, Any]
Record = dict[str, Any]
EXPERIMENT, CONTROL, VARIANT = "exp_cat", "grp_ctl", "grp_b"


def seed(**experiment: Any) -> dict[str, Any]:
    return {
        "experiments": [
            {
                "id": EXPERIMENT,
                "name": "Paywall",
                "alias_id": "paywall",
                "status": "draft",
                **experiment,
            }
        ],
        "groups": [
            {
                "id": CONTROL,
                "experiment_id": EXPERIMENT,
                "name": "Control",
                "is_control": True,
                "weight": 50,
            },
            {"id": VARIANT, "experiment_id": EXPERIMENT, "name": "B", "weight": 50},
        ],
        "users": [{"experiment_id": EXPERIMENT, "user_id": "user-2", "group_id": VARIANT}],
    }


@dataclass(frozen=True)
class Case:
    type: str
    data: dict[str, Any]
    check: Callable[[State, Record], None]
    experiment: dict[str, Any] = field(default_factory=dict)
    target: dict[str, str] = field(default_factory=lambda: {"experiment_id": EXPERIMENT})


def experiment(state: State) -> dict[str, Any]:
    found: dict[str, Any] = state["qonversion"]["experiments"][EXPERIMENT]
    return found


def check_created(state: State, record: Record) -> None:
    (created,) = [e for e in state["qonversion"]["experiments"].values() if e["alias_id"] == "v5"]
    assert (created["name"], created["status"]) == ("Paywall v5", "draft")
    assert created["primary_metric"] == "user_to_trial"  # migrated from user-to-trial
    assert record["result"]["id"] == created["id"]
    assert record["target"] == "qonversion:alias:v5"


def check_updated(state: State, record: Record) -> None:
    assert experiment(state)["name"] == "Paywall v4"
    assert experiment(state)["segment_percent"] == 25
    assert experiment(state)["alias_id"] == "paywall"


def check_status(status: str) -> Callable[[State, Record], None]:
    def check(state: State, record: Record) -> None:
        assert experiment(state)["status"] == status
        assert record["result"]["status"] == status

    return check


def check_deleted(state: State, record: Record) -> None:
    assert EXPERIMENT not in state["qonversion"]["experiments"]
    assert record["steps"][0]["upstream_status"] == 204


def check_group_added(state: State, record: Record) -> None:
    groups = [g for g in state["qonversion"]["groups"].values() if g["experiment_id"] == EXPERIMENT]
    assert [(g["name"], g["weight"]) for g in groups] == [("Control", 50), ("B", 50), ("C", 20)]
    assert record["result"]["name"] == "C"


def check_attached(state: State, record: Record) -> None:
    assert state["qonversion"]["users"][EXPERIMENT] == {"user-2": VARIANT, "user-1": CONTROL}


def check_detached(state: State, record: Record) -> None:
    assert state["qonversion"]["users"][EXPERIMENT] == {}


CASES = [
    Case(
        "experiment.create",
        {
            "experiment": {
                "name": "Paywall v5",
                "alias_id": "v5",
                "primary_metric": "user-to-trial",
                "segment_percent": 50,
            }
        },
        check_created,
        target={},
    ),
    Case(
        "experiment.update",
        {"changes": {"name": "Paywall v4", "segment_percent": 25}},
        check_updated,
    ),
    Case("experiment.start", {}, check_status("active")),
    Case("experiment.pause", {}, check_status("paused"), {"status": "active"}),
    Case("experiment.stop", {}, check_status("finished"), {"status": "active"}),
    Case("experiment.delete", {}, check_deleted),
    Case("variation.add", {"variation": {"name": "C", "weight": 20}}, check_group_added),
    Case("experiment.user.attach", {"user_id": "user-1", "group_id": CONTROL}, check_attached),
    Case("experiment.user.detach", {"user_id": "user-2"}, check_detached),
]


@pytest.mark.parametrize("case", CASES, ids=[c.type for c in CASES])
async def test_event_reaches_qonversion(
    ingress: Ingress, settings: Settings, sandbox: Any, case: Case
) -> None:
    await seed_sandbox(sandbox.url, qonversion=seed(**case.experiment))
    target = {"provider": "qonversion", **case.target}
    event = {"type": case.type, "data": {"target": target, **case.data}}
    record = await carry_out(ingress, settings, event)

    assert record["status"] == "succeeded", record
    assert [s["status"] for s in record["steps"]] == ["done"]
    case.check(await sandbox_state(sandbox.url), record)
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/")
    assert [c["status"] < 300 for c in calls] == [True]
    assert calls[0]["idempotency_key"] == record["steps"][0]["idempotency_key"]


UNSUPPORTED = [
    ("experiment.archive", {}),
    ("variation.remove", {"variation_id": "grp_b"}),
    *(
        (f"{kind}.{op}", {})
        for kind in ("project", "goal", "hypothesis", "audience")
        for op in ("create", "update", "delete")
    ),
    ("hypothesis.status", {"status": "active"}),
]


@pytest.mark.parametrize(("event_type", "data"), UNSUPPORTED, ids=[t for t, _ in UNSUPPORTED])
async def test_unsupported_operations_are_422(
    ingress: Ingress, settings: Settings, event_type: str, data: dict[str, Any]
) -> None:
    target = {"provider": "qonversion", "experiment_id": EXPERIMENT}
    response = await ingress.post_event({"type": event_type, "data": {"target": target, **data}})
    assert response.status == 422
    body = await response.json()
    assert f"{event_type} is not supported by qonversion" in body["detail"]
    assert "(supported by: convert)" in body["detail"]
    assert body["errors"] == [{"field": "type", "message": "not supported by qonversion"}]
    assert await queued_jobs(settings) == 0
    assert await stored_event_count(settings) == 0
