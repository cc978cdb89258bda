"""The event page's timeline: each attempt that did not succeed, each step with its duration,
and cancel offered while the event waits for its next attempt."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from expbridge.config.settings import Settings
from expbridge.events.record import AttemptRecord, EventRecord, StepRecord
from expbridge.service.console.timeline import timeline
from tests.conftest import Ingress, running_ingress
from tests.helpers import add_fault, run_worker_burst, seed_experiment, start_event
from tests.service.console.browser import running_worker, until_status
from tests.service.console.session import browser_like, sign_in

STATUS_PATH = "/qonversion/v4/experiments/exp_t/status"


async def test_a_retried_event_shows_each_attempt_and_its_step(
    make_settings: Callable[..., Settings], sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_t")
    await add_fault(sandbox.url, path_prefix=STATUS_PATH, count=2, status=503)
    settings = make_settings(retry={"base_delay_s": 0.05, "max_delay_s": 0.1})
    async with running_ingress(settings) as ingress:
        response = await ingress.post_event(start_event("exp_t"))
        event_id = (await response.json())["id"]
        await run_worker_burst(settings)
        async with browser_like() as client:
            await sign_in(ingress, client)
            async with client.get(ingress.url(f"/ui/events/{event_id}")) as r:
                page = await r.text()
    timeline_html = page[page.index('<ol class="timeline">') :]
    marks = re.findall(r"<b>([^<]+)</b>", timeline_html[: timeline_html.index("</ol>")])
    assert marks == [
        "received",
        "attempt 1 failed, retried",
        "attempt 2 failed, retried",
        "step qonversion.set_status",
        "succeeded",
    ]
    assert timeline_html.count("<dt>upstream status</dt><dd>503</dd>") == 2
    assert "<dt>upstream status</dt><dd>200</dd>" in timeline_html
    assert "Simulated upstream error 503" in timeline_html
    assert timeline_html.count("<dt>next attempt</dt>") == 2
    assert f"{event_id}.1.qonversion.set_status" in timeline_html
    durations = re.findall(r"<dt>duration</dt><dd>(\d+\.\d{3}) s</dd>", timeline_html)
    assert len(durations) == 3 and all(float(d) < 5 for d in durations)


async def test_cancel_is_offered_while_the_event_waits_to_be_retried(
    make_settings: Callable[..., Settings], sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_t")
    await add_fault(sandbox.url, path_prefix=STATUS_PATH, count=1, status=503)
    settings = make_settings(retry={"base_delay_s": 60, "max_delay_s": 60})
    async with running_ingress(settings) as ingress:
        event_id = (await (await ingress.post_event(start_event("exp_t"))).json())["id"]
        # The worker fails the first attempt; the retry would come a minute later.
        async with running_worker(settings):
            await until_status(ingress, event_id, "retrying")
        async with browser_like() as client:
            csrf = await sign_in(ingress, client)
            async with client.get(ingress.url(f"/ui/events/{event_id}")) as r:
                page = await r.text()
            assert "attempt 1 failed, retried" in page and "next attempt" in page
            assert f'action="/ui/events/{event_id}/cancel"' in page
            async with client.post(
                ingress.url(f"/ui/events/{event_id}/cancel"), data={"csrf": csrf}
            ) as r:
                assert "Cancelled: the event left its line." in await r.text()
        assert (await ingress.get_record(event_id))["status"] == "cancelled"


def test_marks_are_in_the_order_they_happened() -> None:
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def at(seconds: float) -> datetime:
        return t0 + timedelta(seconds=seconds)

    record = EventRecord(
        id="evt_1",
        type="experiment.start",
        source="growth",
        target="qonversion:exp_1",
        status="succeeded",
        received_at=t0,
        updated_at=at(40),
        requeued_at=at(30),
        replays=1,
        attempts=1,
        failed_attempts=[
            AttemptRecord(
                attempt=1, started_at=at(1), ended_at=at(2), outcome="dead", error="x: no"
            ),
            AttemptRecord(
                attempt=0,
                started_at=at(31),
                ended_at=at(31.5),
                outcome="waiting",
                next_attempt_at=at(33),
            ),
        ],
        steps=[
            StepRecord(
                name="qonversion.set_status",
                status="done",
                idempotency_key="evt_1.2.qonversion.set_status",
                attempts=2,
                started_at=at(34),
                finished_at=at(34.25),
            )
        ],
    )
    entries = timeline(record)
    assert [e.what for e in entries] == [
        "received",
        "attempt 1 failed for good",
        "replayed",
        "attempt 1 waited for its provider",
        "step qonversion.set_status",
        "succeeded",
    ]
    assert entries[4].detail["duration"] == "0.250 s"
    assert entries[1].tone == "bad" and entries[3].tone == "wait"


async def test_cancel_is_offered_for_a_scheduled_event(ingress: Ingress) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    when = later.isoformat(timespec="seconds").replace("+00:00", "Z")
    response = await ingress.post_event(start_event("exp_t", not_before=when))
    event_id = (await response.json())["id"]
    assert (await ingress.get_record(event_id))["status"] == "scheduled"
    async with browser_like() as client:
        csrf = await sign_in(ingress, client)
        async with client.get(ingress.url(f"/ui/events/{event_id}")) as r:
            page = await r.text()
        assert "takes effect (scheduled)" in page
        assert f'action="/ui/events/{event_id}/cancel"' in page
        async with client.post(
            ingress.url(f"/ui/events/{event_id}/cancel"), data={"csrf": csrf}
        ) as r:
            assert "Cancelled: the event left its line." in await r.text()
    assert (await ingress.get_record(event_id))["status"] == "cancelled"
