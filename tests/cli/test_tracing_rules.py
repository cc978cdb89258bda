"""Lifecycle rules in the trace: an event rule's evaluation is a span of the triggering event's
trace (linked to its accept span), and the action it queues continues that trace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli.tracing_processes import Bridge, one, traceparent
from tests.conftest import ADMIN_TOKEN
from tests.helpers import seed_experiment
from tests.otlp_receiver import OtlpReceiver

RULE = {
    "name": "pause-on-refund-spike",
    "trigger": {
        "event": "goal.threshold_reached",
        "goal_id": "refunds",
        "metric": "rate",
        "value_at_least": 0.05,
    },
    "when": {"min_runtime_days": 1},
    "actions": [{"event": "experiment.pause"}],
}


def threshold(experiment_id: str) -> dict[str, Any]:
    target = {"provider": "qonversion", "experiment_id": experiment_id}
    data = {
        "target": target,
        "goal_id": "refunds",
        "metric": "rate",
        "value": 0.07,
        "threshold": 0.05,
        "direction": "above",
    }
    return {"type": "goal.threshold_reached", "data": data}


@pytest.mark.slow
async def test_a_rule_and_its_action_continue_the_triggers_trace(
    tmp_path: Path, redis_url: str, sandbox_process: str, receiver: OtlpReceiver
) -> None:
    started = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    await seed_experiment(sandbox_process, "exp_r", status="active", started_at=started)
    producer = ("cccccccccccccccccccccccccccccccc", "dddddddddddddddd")
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"}
    async with Bridge(tmp_path, redis_url, sandbox_process, rules=[RULE], **otel) as bridge:
        trigger = await bridge.post(threshold("exp_r"), {"traceparent": traceparent(*producer)})
        record = await bridge.finished(trigger["id"])
        [action_id] = record["result"]["rules"][0]["events"]
        action = await bridge.finished(action_id)
        async with bridge.session.get(
            f"{bridge.url}/v1/rules/evaluations", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ) as response:
            [evaluation] = (await response.json())["data"]
        await receiver.wait_for("attempt experiment.pause", 1)
        bridge.stop()

    assert (record["status"], action["status"]) == ("succeeded", "succeeded")
    assert record["trace_id"] == action["trace_id"] == evaluation["trace_id"] == producer[0]
    accept = one([s for s in receiver.named("POST /v1/events") if s.trace_id == producer[0]])
    rule = one(receiver.named("rule pause-on-refund-spike"))
    assert rule.trace_id == producer[0]
    assert rule.links == [(producer[0], accept.span_id)]
    assert rule.attributes["expbridge.rule.outcome"] == "fired"
    step = one([s for s in receiver.spans if s.span_id == rule.parent_span_id])
    assert step.name == "step rules.evaluate"
    # The rule read the experiment (a request span under it); the pause it queued is its child.
    assert sorted(s.name for s in receiver.children(rule)) == [
        "GET /qonversion/v4/experiments/{experiment_id}",
        "attempt experiment.pause",
    ]
    pause = one(receiver.named("attempt experiment.pause"))
    assert (pause.trace_id, pause.parent_span_id) == (producer[0], rule.span_id)
