"""Accepted event -> worker -> Qonversion sandbox over real HTTP -> status record."""

from __future__ import annotations

from typing import Any

import pytest

from expbridge.config.settings import Settings
from tests.conftest import OTHER_TOKEN, Ingress
from tests.helpers import (
    qonversion_experiment,
    run_worker_burst,
    sandbox_requests,
    seed_experiment,
    start_event,
)


async def accept(ingress: Ingress, event: dict[str, Any]) -> str:
    response = await ingress.post_event(event)
    assert response.status == 202, await response.text()
    body = await response.json()
    assert body["status"] == "queued" and body["type"] == event["type"]
    assert body["links"]["self"] == f"/v1/events/{body['id']}"
    event_id: str = body["id"]
    return event_id


@pytest.mark.parametrize(
    ("event_type", "before", "after"),
    [
        ("experiment.start", "draft", "active"),
        ("experiment.pause", "active", "paused"),
        ("experiment.stop", "active", "finished"),
    ],
)
async def test_lifecycle_event_reaches_qonversion(
    ingress: Ingress, settings: Settings, sandbox: Any, event_type: str, before: str, after: str
) -> None:
    await seed_experiment(sandbox.url, "exp_8f3a", status=before)
    event_id = await accept(ingress, {**start_event("exp_8f3a"), "type": event_type})
    assert (await ingress.get_record(event_id))["status"] == "queued"

    await run_worker_burst(settings)

    record = await ingress.get_record(event_id)
    assert record["status"] == "succeeded", record
    assert record["attempts"] == 1
    assert record["steps"] == [
        {
            "name": "qonversion.set_status",
            "status": "done",
            "upstream_status": 200,
            "idempotency_key": f"{event_id}.1.qonversion.set_status",
            "attempts": 1,
            "started_at": record["steps"][0]["started_at"],
            "finished_at": record["steps"][0]["finished_at"],
            "result": record["steps"][0]["result"],
        }
    ]
    assert record["result"]["status"] == after
    assert (await qonversion_experiment(sandbox.url, "exp_8f3a"))["status"] == after
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/exp_8f3a/status")
    assert [c["body"] for c in calls] == [{"status": after}]
    assert calls[0]["idempotency_key"] == f"{event_id}.1.qonversion.set_status"


async def test_update_sends_only_the_named_fields(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_up", description="old", segment_percent=50)
    event = {
        "type": "experiment.update",
        "data": {
            "target": {"provider": "qonversion", "experiment_id": "exp_up"},
            "changes": {
                "name": "Paywall v4",
                "primary_metric": "user-to-trial",
                "goal_value": None,
            },
        },
    }
    event_id = await accept(ingress, event)
    await run_worker_burst(settings)

    assert (await ingress.get_record(event_id))["status"] == "succeeded"
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/exp_up")
    patches = [c for c in calls if c["method"] == "PATCH"]
    # The legacy hyphenated metric is migrated before it is sent; unnamed fields are not sent.
    assert [p["body"] for p in patches] == [
        {"name": "Paywall v4", "primary_metric": "user_to_trial", "goal_value": None}
    ]
    experiment = await qonversion_experiment(sandbox.url, "exp_up")
    assert experiment["name"] == "Paywall v4"
    assert experiment["description"] == "old" and experiment["segment_percent"] == 50


async def test_unknown_experiment_ends_dead_with_the_upstream_status(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    event_id = await accept(ingress, start_event("exp_missing"))
    await run_worker_burst(settings)

    record = await ingress.get_record(event_id)
    assert record["status"] == "dead"
    assert record["last_error"]["upstream_status"] == 404
    assert record["last_error"]["provider"] == "qonversion"
    assert record["steps"][0]["status"] == "failed"
    assert len(await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/exp_missing")) == 1


async def test_events_for_one_target_take_effect_in_accept_order(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_ord")
    sequence = ["experiment.start", "experiment.pause", "experiment.start", "experiment.stop"]
    ids = [await accept(ingress, {**start_event("exp_ord"), "type": t}) for t in sequence]
    await run_worker_burst(settings)

    for event_id in ids:
        assert (await ingress.get_record(event_id))["status"] == "succeeded"
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/exp_ord/status")
    assert [c["body"]["status"] for c in calls] == ["active", "paused", "active", "finished"]


async def test_a_source_sees_only_its_own_events(ingress: Ingress, sandbox: Any) -> None:
    event_id = await accept(ingress, start_event("exp_x"))
    headers = {"Authorization": f"Bearer {OTHER_TOKEN}"}
    async with ingress.session.get(ingress.url(f"/v1/events/{event_id}"), headers=headers) as r:
        assert r.status == 404
    async with ingress.session.get(ingress.url(f"/v1/events/{event_id}")) as r:
        assert r.status == 401
