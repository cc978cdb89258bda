"""Creates are made safe to retry: Qonversion by alias_id (409 -> look it up), Convert by a
lookup by name after an attempt whose outcome is unknown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from expbridge.config.settings import Settings
from tests.conftest import Ingress
from tests.helpers import (
    add_fault,
    carry_out,
    convert_overrides,
    sandbox_requests,
    sandbox_state,
    seed_sandbox,
)
from tests.workers.providers.convert.seed import PROJECT, seed

NEW = {"name": "Paywall v5", "alias_id": "v5", "segment_percent": 50, "primary_metric": "sales"}


def create_event(**experiment: Any) -> dict[str, Any]:
    data = {"target": {"provider": "qonversion"}, "experiment": {**NEW, **experiment}}
    return {"type": "experiment.create", "data": data}


async def test_qonversion_409_for_a_matching_experiment_succeeds(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    # An earlier attempt made it (here: seeded as it would have been created).
    await seed_sandbox(sandbox.url, qonversion={"experiments": [{"id": "exp_made", **NEW}]})
    record = await carry_out(ingress, settings, create_event())

    assert record["status"] == "succeeded", record
    assert record["result"]["id"] == "exp_made"
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments")
    assert [(c["method"], c["status"]) for c in calls] == [("POST", 409), ("GET", 200)]
    assert len((await sandbox_state(sandbox.url))["qonversion"]["experiments"]) == 1


async def test_qonversion_409_for_another_experiment_is_dead(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    other = {**NEW, "name": "Someone else's", "segment_percent": 10}
    await seed_sandbox(sandbox.url, qonversion={"experiments": [{"id": "exp_other", **other}]})
    record = await carry_out(ingress, settings, create_event())

    assert record["status"] == "dead", record
    error = record["last_error"]
    assert error["upstream_status"] == 409 and error["provider"] == "qonversion"
    assert "exp_other" in error["message"] and "name, segment_percent" in error["message"]


async def test_qonversion_create_with_a_lost_answer_makes_one_experiment(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await add_fault(
        sandbox.url,
        method="POST",
        path_prefix="/qonversion/v4/experiments",
        count=1,
        drop=True,
        after_handling=True,
    )
    record = await carry_out(ingress, settings, create_event())

    assert record["status"] == "succeeded", record
    assert record["steps"][0]["attempts"] == 2
    experiments = (await sandbox_state(sandbox.url))["qonversion"]["experiments"]
    assert [e["alias_id"] for e in experiments.values()] == ["v5"]


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_convert_create_after_an_unknown_outcome_looks_up_by_name(
    ingress: Ingress, make_settings: Callable[..., Settings], sandbox: Any, version: str
) -> None:
    settings = make_settings(convert=convert_overrides(sandbox.url, version))
    await seed_sandbox(sandbox.url, convert=seed())
    api = f"/convert/api/{version}/"
    # The experience is made upstream, but the answer never arrives.
    await add_fault(
        sandbox.url, method="POST", path_prefix=api, count=1, drop=True, after_handling=True
    )
    event = {
        "type": "experiment.create",
        "data": {
            "target": {"provider": "convert", "project_id": PROJECT},
            "experience": {"name": "Checkout"},
        },
    }
    record = await carry_out(ingress, settings, event)

    assert record["status"] == "succeeded", record
    assert record["steps"][0]["attempts"] == 2
    experiences = (await sandbox_state(sandbox.url))["convert"]["experiences"]
    (made,) = [e for e in experiences.values() if e["name"] == "Checkout"]
    assert record["result"]["id"] == made["id"]
    calls = await sandbox_requests(sandbox.url, api)
    adds = [c for c in calls if c["path"].endswith("/add") or "/add/" in c["path"]]
    lookups = [c for c in calls if c.get("body") and c["body"].get("search") == "Checkout"]
    assert len(adds) == 1 and len(lookups) == 1
    assert lookups[0]["seq"] > adds[0]["seq"]
