"""goal.threshold_reached end to end: real ingress, redis-server, worker and sandbox, a local
Slack stand-in. The rule fires once; a second identical fact does not fire it again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from redis.asyncio import Redis

from expbridge.config.loading import load_config
from expbridge.config.settings import Settings
from expbridge.events import keys
from tests.conftest import ADMIN_TOKEN, Ingress, running_ingress
from tests.helpers import (
    accept_event,
    qonversion_experiment,
    run_worker_burst,
    sandbox_requests,
    seed_experiment,
)

RULE = {
    "name": "pause-on-refund-spike",
    "trigger": {
        "event": "goal.threshold_reached",
        "goal_id": "refunds",
        "metric": "rate",
        "value_at_least": 0.05,
    },
    "when": {"min_runtime_days": 1},
    "actions": [
        {"event": "experiment.pause"},
        {"notify": "{rule} paused {target}: {reason} ({events})"},
    ],
}


def days_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def threshold(experiment_id: str, goal_id: str = "refunds", value: float = 0.07) -> dict[str, Any]:
    target = {"provider": "qonversion", "experiment_id": experiment_id}
    data = {
        "target": target,
        "goal_id": goal_id,
        "metric": "rate",
        "value": value,
        "threshold": 0.05,
        "direction": "above",
    }
    return {"type": "goal.threshold_reached", "data": data}


@pytest.fixture
async def setup(
    make_settings: Callable[..., Settings], tmp_path: Path, slack: Any
) -> AsyncIterator[tuple[Ingress, Settings]]:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": [RULE]}), encoding="utf-8")
    settings = make_settings(
        config=path,
        slack={"allowed_hosts": ["127.0.0.1"], "notify_webhook_url": slack.url("/notify")},
    )
    async with running_ingress(settings, load_config(settings)) as ingress:
        yield ingress, settings


async def test_a_threshold_fires_its_rule_once(
    setup: tuple[Ingress, Settings], sandbox: Any, slack: Any
) -> None:
    ingress, settings = setup
    await seed_experiment(sandbox.url, "exp_t", status="active", started_at=days_ago(3))

    first = await accept_event(ingress, threshold("exp_t"))
    await run_worker_burst(settings)

    record = await ingress.get_record(first)
    assert record["status"] == "succeeded", record
    # An ordinary step of the ledger: the ledger's idempotency key, and no pacing slot taken.
    [step] = record["steps"]
    assert (step["name"], step["status"], step["attempts"]) == ("rules.evaluate", "done", 1)
    assert step["idempotency_key"] == f"{first}.1.rules.evaluate"
    assert step["upstream_status"] is None
    redis = Redis.from_url(settings.redis_url)
    assert await redis.keys(keys.pace("rules", "*")) == []
    await redis.aclose()
    assert record["result"]["fired"] == ["pause-on-refund-spike"]
    [outcome] = record["result"]["rules"]
    assert outcome["outcome"] == "fired" and outcome["condition"] == "goal:refunds:rate"
    [action_id] = outcome["events"]
    action = await ingress.get_record(action_id, token=ADMIN_TOKEN)
    assert (action["type"], action["source"], action["status"]) == (
        "experiment.pause",
        "rules",
        "succeeded",
    )
    assert action["cause"] == {
        "kind": "rule",
        "rule": "pause-on-refund-spike",
        "condition": "goal:refunds:rate",
        "reason": "goal refunds rate reached 0.07; ran 3.00 days (min_runtime_days 1)",
        "statistics": None,
        "trigger_event_id": first,
        "user": None,
        "channel": None,
        "command": None,
        "approved_by": None,
    }
    assert (await qonversion_experiment(sandbox.url, "exp_t"))["status"] == "paused"
    [note] = slack.posted_to("/notify")
    assert note["text"] == (
        "pause-on-refund-spike paused qonversion:exp_t: goal refunds rate reached 0.07; "
        f"ran 3.00 days (min_runtime_days 1) ({action_id})"
    )

    # Someone resumes the experiment; the same fact comes again (a new event, not an
    # idempotent replay): the rule has fired for this experiment and condition, not again.
    await seed_experiment(sandbox.url, "exp_t", status="active", started_at=days_ago(3))
    second = await accept_event(ingress, threshold("exp_t", value=0.09))
    await run_worker_burst(settings)
    again = await ingress.get_record(second)
    assert again["status"] == "succeeded" and again["result"]["fired"] == []
    [outcome] = again["result"]["rules"]
    assert outcome["outcome"] == "already_fired" and outcome["events"] == [action_id]
    assert f"already fired for this target and condition (by {first})" in outcome["reasons"]
    status_calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/exp_t/status")
    assert len(status_calls) == 1
    assert len(slack.posted_to("/notify")) == 1


async def test_a_threshold_that_does_not_match_or_is_too_early_fires_nothing(
    setup: tuple[Ingress, Settings], sandbox: Any, slack: Any
) -> None:
    ingress, settings = setup
    await seed_experiment(sandbox.url, "exp_new", status="active", started_at=days_ago(0.25))
    other_goal = await accept_event(ingress, threshold("exp_new", goal_id="signups"))
    too_early = await accept_event(ingress, threshold("exp_new"))
    await run_worker_burst(settings)

    record = await ingress.get_record(other_goal)
    assert record["result"] == {
        "fired": [],
        "rules": [
            {
                "rule": "pause-on-refund-spike",
                "outcome": "not_met",
                "reasons": ["goal signups is not the rule's goal refunds"],
            }
        ],
    }
    [outcome] = (await ingress.get_record(too_early))["result"]["rules"]
    assert outcome["outcome"] == "not_met"
    assert outcome["reasons"] == [
        "goal refunds rate reached 0.07",
        "ran 0.25 days, under min_runtime_days 1",
    ]
    assert (await qonversion_experiment(sandbox.url, "exp_new"))["status"] == "active"
    assert await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/exp_new/status") == []
    assert slack.posts == []
