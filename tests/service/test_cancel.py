"""POST /v1/events/{id}/cancel in each state, with a real worker and the sandbox: a cancelled
event leaves its line (the next one proceeds) and never reaches the provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from expbridge.config.settings import Settings
from tests.conftest import ADMIN_TOKEN, OTHER_TOKEN, SOURCE_TOKEN, Ingress, running_ingress
from tests.helpers import (
    accept_event,
    add_fault,
    queued_jobs,
    run_worker_burst,
    running_worker,
    sandbox_requests,
    seed_experiment,
    start_event,
    wait_status,
)
from tests.scrape import sample

STATUS = "/qonversion/v4/experiments/{}/status"


def pause_event(experiment_id: str) -> dict[str, Any]:
    return {**start_event(experiment_id), "type": "experiment.pause"}


async def cancel(
    ingress: Ingress, event_id: str, token: str | None = SOURCE_TOKEN
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = ingress.url(f"/v1/events/{event_id}/cancel")
    async with ingress.session.post(url, headers=headers) as response:
        body: dict[str, Any] = await response.json(content_type=None)
        return response.status, body


async def upstream_calls(sandbox_url: str, experiment_id: str) -> list[dict[str, Any]]:
    return await sandbox_requests(sandbox_url, STATUS.format(experiment_id))


async def test_queued_events_at_the_head_or_behind_it_leave_the_line(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_q")
    head = await accept_event(ingress, start_event("exp_q"))
    behind = await accept_event(ingress, pause_event("exp_q"))
    last = await accept_event(ingress, start_event("exp_q"))

    status, body = await cancel(ingress, behind)
    assert status == 200, body
    assert body["status"] == "cancelled" and body["cancelled_by"] == "growth"
    status, body = await cancel(ingress, head)
    assert status == 200, body
    assert await queued_jobs(settings) == 1  # the head's job went with it; `last` now has one

    await run_worker_burst(settings)
    assert (await ingress.get_record(last))["status"] == "succeeded"
    assert [(await ingress.get_record(i))["status"] for i in (head, behind)] == ["cancelled"] * 2
    calls = await upstream_calls(sandbox.url, "exp_q")
    assert [call["body"]["status"] for call in calls] == ["active"]  # only `last` went upstream


async def test_a_retrying_event_is_cancelled_and_the_next_proceeds(
    make_settings: Callable[..., Settings], sandbox: Any
) -> None:
    settings = make_settings(retry={"base_delay_s": 30, "max_delay_s": 60})
    await seed_experiment(sandbox.url, "exp_r")
    await add_fault(sandbox.url, path_prefix=STATUS.format("exp_r"), status=503, count=1)
    async with running_ingress(settings) as ingress, running_worker(settings):
        flaky = await accept_event(ingress, start_event("exp_r"))
        after = await accept_event(ingress, start_event("exp_r"))
        await wait_status(ingress, flaky, "retrying")
        status, body = await cancel(ingress, flaky)
        assert status == 200, body
        assert body["status"] == "cancelled" and body["next_attempt_at"] is None
        assert body["attempts"] == 1
        record = await wait_status(ingress, after, "succeeded", "dead")
        assert record["status"] == "succeeded", record
    calls = await upstream_calls(sandbox.url, "exp_r")
    # The failed attempt, then `after`; the cancelled one was never tried again.
    assert [call["idempotency_key"].split(".")[0] for call in calls] == [flaky, after]
    assert await queued_jobs(settings) == 0


async def test_running_and_finished_events_answer_409_and_stay_as_they_are(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_run")
    await add_fault(sandbox.url, path_prefix=STATUS.format("exp_run"), delay_s=1.5, count=1)
    async with running_worker(settings):
        event_id = await accept_event(ingress, start_event("exp_run"))
        await wait_status(ingress, event_id, "running")
        status, body = await cancel(ingress, event_id)
        assert status == 409 and body["type"].endswith("/event-running"), body
        assert "may already be upstream" in body["detail"]
        await wait_status(ingress, event_id, "succeeded")
    status, body = await cancel(ingress, event_id)
    assert status == 409 and body["type"].endswith("/event-finished"), body
    assert (await ingress.get_record(event_id))["status"] == "succeeded"


async def test_who_may_cancel_unknown_ids_and_a_second_cancel(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    event_id = await accept_event(ingress, start_event("exp_who"))
    assert (await cancel(ingress, event_id, token=None))[0] == 401
    assert (await cancel(ingress, event_id, token=OTHER_TOKEN))[0] == 404  # not the other's
    assert (await cancel(ingress, "evt_" + "0" * 32))[0] == 404
    assert (await cancel(ingress, "x" * 300))[0] == 404
    status, first = await cancel(ingress, event_id, token=ADMIN_TOKEN)
    assert status == 200 and first["cancelled_by"] == "admin"
    status, again = await cancel(ingress, event_id)
    assert (status, again) == (200, first)  # idempotent: the same record again
    assert await queued_jobs(settings) == 0

    async with ingress.session.get(ingress.url("/metrics")) as response:
        text = await response.text()
    assert sample(text, "expbridge_events_cancelled_total", from_status="queued") == 1


async def test_the_cancel_route_is_in_the_openapi_document(ingress: Ingress) -> None:
    async with ingress.session.get(ingress.url("/openapi.json")) as response:
        document = await response.json()
    operation = document["paths"]["/v1/events/{event_id}/cancel"]["post"]
    assert set(operation["responses"]) >= {"200", "401", "404", "409"}
    statuses = document["components"]["schemas"]["EventStatusRecord"]["properties"]["status"]
    assert {"scheduled", "cancelled"} <= set(statuses["enum"])


async def test_a_cancelled_event_is_listed_with_its_status(ingress: Ingress) -> None:
    event_id = await accept_event(ingress, start_event("exp_list"))
    await cancel(ingress, event_id)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    url = ingress.url("/v1/events?status=cancelled")
    async with ingress.session.get(url, headers=headers) as response:
        assert response.status == 200
        page = await response.json()
    assert [r["id"] for r in page["data"]] == [event_id]
