"""One ordered line runs event after event: FINISH hands the next event's job to the worker that
finished, which starts it at once instead of at its next poll (workers/bridge_worker.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from expbridge.config.settings import Settings
from tests.conftest import Ingress
from tests.helpers import (
    accept_event,
    running_worker,
    sandbox_requests,
    seed_experiment,
    wait_status,
)

POLL_S = 5.0


async def test_a_line_runs_without_waiting_for_polls_and_in_order(
    ingress: Ingress, make_settings: Callable[..., Settings], sandbox: Any
) -> None:
    settings = make_settings(worker={"poll_delay_s": POLL_S})
    await seed_experiment(sandbox.url, "exp_line")
    kinds = ["experiment.start", "experiment.pause", "experiment.start", "experiment.stop"]
    ids = []
    for kind in kinds:
        event = {
            "type": kind,
            "data": {"target": {"provider": "qonversion", "experiment_id": "exp_line"}},
        }
        ids.append(await accept_event(ingress, event))
    started = time.monotonic()
    async with running_worker(settings):  # its first poll takes the head; no second poll in time
        for event_id in ids:
            record = await wait_status(ingress, event_id, "succeeded", timeout_s=POLL_S - 1)
            assert record["attempts"] == 1
    assert time.monotonic() - started < POLL_S - 1  # four events, not four poll periods
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/exp_line/status")
    assert [call["body"]["status"] for call in calls] == ["active", "paused", "active", "finished"]
