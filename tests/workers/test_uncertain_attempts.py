"""Steps after an attempt whose outcome is unknown (the step's attempts counter above one),
run against the sandbox over HTTP: deletes that meet 404 are done, creates look first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from expbridge.config.settings import Settings
from expbridge.events.record import EventRecord, StepRecord
from expbridge.workers.deps import JobDeps
from expbridge.workers.plans.registry import plan_event
from expbridge.workers.providers.errors import PermanentUpstreamError
from expbridge.workers.worker import worker_deps
from tests.helpers import sandbox_requests, seed_sandbox
from tests.workers.providers.convert.seed import EXPERIENCE, PROJECT, seed

QON = {"provider": "qonversion", "experiment_id": "exp_u"}
EXP = {"provider": "convert", "project_id": PROJECT, "experience_id": EXPERIENCE}


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[JobDeps]:
    async with worker_deps(settings) as opened:
        yield opened


def record_of(event_type: str, data: dict[str, Any], attempts: int) -> EventRecord:
    record = EventRecord(id="evt_u", type=event_type, source="t", target="t", data=data)
    step = plan_event(record)
    record.steps.append(StepRecord(name=step.name, idempotency_key="k", attempts=attempts))
    return record


async def run_only_step(deps: JobDeps, record: EventRecord) -> Any:
    step = plan_event(record)
    return await step.run(deps, record, f"key-{record.steps[0].attempts}")


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("experiment.delete", {"target": QON}),
        ("experiment.user.detach", {"target": QON, "user_id": "nobody"}),
        ("experiment.delete", {"target": {**EXP, "experience_id": "9999"}}),
        ("variation.remove", {"target": EXP, "variation_id": "9999"}),
        (
            "goal.delete",
            {"target": {"provider": "convert", "project_id": PROJECT, "goal_id": "9999"}},
        ),
    ],
)
async def test_a_404_delete_is_done_only_after_an_uncertain_attempt(
    deps: JobDeps, sandbox: Any, event_type: str, data: dict[str, Any]
) -> None:
    await seed_sandbox(sandbox.url, convert=seed())
    with pytest.raises(PermanentUpstreamError) as caught:
        await run_only_step(deps, record_of(event_type, data, attempts=1))
    assert caught.value.status == 404
    outcome = await run_only_step(deps, record_of(event_type, data, attempts=2))
    assert (outcome.status, outcome.value) == (404, None)


async def test_group_add_after_an_uncertain_attempt_finds_the_group(
    deps: JobDeps, sandbox: Any
) -> None:
    await seed_sandbox(
        sandbox.url,
        qonversion={
            "experiments": [{"id": "exp_u", "name": "U"}],
            "groups": [{"id": "grp_c", "experiment_id": "exp_u", "name": "C", "weight": 20}],
        },
    )
    data = {"target": QON, "variation": {"name": "C", "weight": 20}}
    outcome = await run_only_step(deps, record_of("variation.add", data, attempts=2))
    assert outcome.value.id == "grp_c"
    posts = [
        c for c in await sandbox_requests(sandbox.url, "/qonversion/") if c["method"] == "POST"
    ]
    assert posts == []
    outcome = await run_only_step(deps, record_of("variation.add", data, attempts=1))
    assert outcome.status == 201 and outcome.value.id != "grp_c"


async def test_variation_add_after_an_uncertain_attempt_finds_the_variation(
    deps: JobDeps, sandbox: Any
) -> None:
    await seed_sandbox(sandbox.url, convert=seed())
    data = {"target": EXP, "variation": {"name": "B"}}
    outcome = await run_only_step(deps, record_of("variation.add", data, attempts=2))
    assert [v.name for v in outcome.value.variations] == ["Original", "B"]
    calls = await sandbox_requests(sandbox.url, "/convert/")
    assert [c["method"] for c in calls] == ["GET"]


async def test_a_create_run_again_after_a_crash_looks_first(deps: JobDeps, sandbox: Any) -> None:
    # The worker saves the step's counter before each call, so after a kill mid-call the next
    # run sees a second attempt of the step and looks the goal up before creating it.
    await seed_sandbox(sandbox.url, convert=seed())
    data = {"target": {"provider": "convert", "project_id": PROJECT}, "goal": {"goal_name": "Buy"}}
    record = record_of("goal.create", data, attempts=2)
    outcome = await run_only_step(deps, record)
    assert outcome.value.goal_name == "Buy"
    calls = await sandbox_requests(sandbox.url, "/convert/")
    assert [c["path"].rsplit("/", 2)[-2:] for c in calls] == [["goals", PROJECT]]
