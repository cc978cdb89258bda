"""Outcome callbacks end to end: the real ingress, a worker, the sandbox and a receiver process
that verifies every signature with the standardwebhooks library."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import yaml

from expbridge.cli.worker_runner import stop_worker
from expbridge.config.settings import Settings
from expbridge.workers.worker import create_worker
from tests.conftest import ADMIN_TOKEN, running_ingress
from tests.helpers import accept_event, run_worker_burst, seed_experiment, start_event
from tests.workers.callbacks.conftest import new_secret


async def callback_records(ingress: Any) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with ingress.session.get(
        ingress.url("/v1/events?type=callback.deliver&limit=100"), headers=headers
    ) as response:
        assert response.status == 200, await response.text()
        items: list[dict[str, Any]] = (await response.json())["data"]
    return sorted(items, key=lambda r: r["received_at"])


async def test_a_finished_event_is_called_back_signed_as_a_cloudevent(
    subscribed: Callable[..., Settings], receivers: Any, sandbox: Any
) -> None:
    secret = new_secret()
    receiver = await receivers(secret)
    settings = subscribed({"url": receiver.url + "/hooks/expbridge", "secrets": [secret]})
    await seed_experiment(sandbox.url, "exp_cb")
    async with running_ingress(settings) as ingress:
        event_id = await accept_event(ingress, start_event("exp_cb"))
        await run_worker_burst(settings)
        record = await ingress.get_record(event_id)
        callbacks = await callback_records(ingress)

    assert record["status"] == "succeeded"
    [got] = await receiver.received()
    assert got["path"] == "/hooks/expbridge" and got["verified_by"] == [0]
    assert got["content_type"] == "application/cloudevents+json"
    event = got["event"]
    assert event["specversion"] == "1.0" and event["type"] == "expbridge.event.succeeded"
    assert event["source"] == "expbridge" and event["subject"] == event_id
    assert event["id"] == got["webhook_id"]
    assert event["data"] == record  # the public status record, nothing internal
    assert "data" not in event["data"]
    [callback] = callbacks
    assert callback["id"] == event["id"] and callback["status"] == "succeeded"
    assert callback["source"] == "growth" and callback["target"] == "callback:growth/default"
    assert callback["steps"][0]["upstream_status"] == 204
    assert secret not in str(callbacks)


async def test_rotation_signs_with_every_secret_and_either_verifies(
    subscribed: Callable[..., Settings], receivers: Any, sandbox: Any
) -> None:
    old, new = new_secret(), new_secret()
    knows_old, knows_new = await receivers(old), await receivers(new)
    settings = subscribed(
        {"name": "old-side", "url": knows_old.url, "secrets": [old, new]},
        {"name": "new-side", "url": knows_new.url, "secrets": [old, new]},
    )
    await seed_experiment(sandbox.url, "exp_rot")
    async with running_ingress(settings) as ingress:
        await accept_event(ingress, start_event("exp_rot"))
        await run_worker_burst(settings)
    [at_old], [at_new] = await knows_old.received(), await knows_new.received()
    assert at_old["verified_by"] == [0] and at_new["verified_by"] == [0]
    assert len(at_old["signature"].split(" ")) == 2  # one v1 signature per secret
    assert at_old["event"]["subject"] == at_new["event"]["subject"]


async def test_a_failing_receiver_gets_retries_in_order_with_one_webhook_id(
    subscribed: Callable[..., Settings], receivers: Any, sandbox: Any
) -> None:
    secret = new_secret()
    receiver = await receivers(secret)
    await receiver.behave(fail=3, status=503, retry_after="0")
    settings = subscribed({"url": receiver.url, "secrets": [secret]})
    for n in range(4):
        await seed_experiment(sandbox.url, f"exp_ord{n}")
    async with running_ingress(settings) as ingress:
        for n in range(4):
            await accept_event(ingress, start_event(f"exp_ord{n}"))
        await run_worker_burst(settings, max_seconds=30)
        callbacks = await callback_records(ingress)

    got = await receiver.received()
    assert [g["answered"] for g in got] == [503, 503, 503, 204, 204, 204, 204]
    # Retries of one callback carry one webhook-id; the line kept queue order.
    assert len({g["webhook_id"] for g in got[:4]}) == 1
    delivered = [g["webhook_id"] for g in got if g["answered"] == 204]
    assert delivered == [c["id"] for c in callbacks]
    assert all(c["status"] == "succeeded" for c in callbacks)
    assert callbacks[0]["attempts"] == 4


async def test_a_receiver_that_stays_down_ends_dead_and_is_replayed(
    subscribed: Callable[..., Settings], receivers: Any, sandbox: Any
) -> None:
    secret = new_secret()
    receiver = await receivers(secret)
    await receiver.behave(fail=-1, status=500)
    settings = subscribed({"url": receiver.url, "secrets": [secret]}, retry={"max_attempts": 2})
    await seed_experiment(sandbox.url, "exp_down")
    async with running_ingress(settings) as ingress:
        event_id = await accept_event(ingress, start_event("exp_down"))
        await run_worker_burst(settings)
        assert (await ingress.get_record(event_id))["status"] == "succeeded"
        [callback] = await callback_records(ingress)
        assert callback["status"] == "dead" and callback["last_error"]["upstream_status"] == 500
        async with ingress.session.get(
            ingress.url("/v1/dead-letters?type=callback.deliver"),
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as response:
            assert [d["id"] for d in (await response.json())["data"]] == [callback["id"]]

        await receiver.behave()  # back up
        async with ingress.session.post(
            ingress.url(f"/v1/events/{callback['id']}/replay"),
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as response:
            assert response.status == 202, await response.text()
        await run_worker_burst(settings)
        [replayed] = await callback_records(ingress)
    assert replayed["status"] == "succeeded" and replayed["replays"] == 1
    got = await receiver.received()
    assert [g["answered"] for g in got] == [500, 500, 204]
    assert {g["webhook_id"] for g in got} == {callback["id"]}


async def test_a_loopback_destination_is_refused_unless_allowed(
    subscribed: Callable[..., Settings], receivers: Any, sandbox: Any
) -> None:
    secret = new_secret()
    receiver = await receivers(secret)
    port = receiver.url.rsplit(":", 1)[1]
    settings = subscribed(
        {"name": "literal", "url": f"https://127.0.0.1:{port}/", "secrets": [secret]},
        {"name": "by-name", "url": f"https://localhost:{port}/", "secrets": [secret]},
        {"name": "plain", "url": receiver.url, "secrets": [secret]},
        allow_loopback=False,
    )
    await seed_experiment(sandbox.url, "exp_ssrf")
    async with running_ingress(settings) as ingress:
        await accept_event(ingress, start_event("exp_ssrf"))
        await run_worker_burst(settings)
        callbacks = await callback_records(ingress)
    assert await receiver.received() == []
    assert {c["target"]: c["status"] for c in callbacks} == {
        "callback:growth/literal": "dead",
        "callback:growth/by-name": "dead",
        "callback:growth/plain": "dead",
    }
    for callback in callbacks:
        assert callback["attempts"] == 1
        assert "destination refused" in callback["last_error"]["message"]


async def test_a_slow_receiver_does_not_hold_up_events(
    subscribed: Callable[..., Settings], receivers: Any, sandbox: Any
) -> None:
    secret = new_secret()
    receiver = await receivers(secret)
    await receiver.behave(delay_s=5)
    settings = subscribed({"url": receiver.url, "secrets": [secret]})
    for n in range(3):
        await seed_experiment(sandbox.url, f"exp_slow{n}")
    worker = create_worker(settings)
    running = asyncio.create_task(worker.async_run())
    try:
        async with running_ingress(settings) as ingress:
            ids = [await accept_event(ingress, start_event(f"exp_slow{n}")) for n in range(3)]
            async with asyncio.timeout(3):  # well before one callback's 1 s timeout x retries
                while True:
                    records = [await ingress.get_record(i) for i in ids]
                    if all(r["status"] == "succeeded" for r in records):
                        break
                    await asyncio.sleep(0.05)
            callbacks = await callback_records(ingress)
    finally:
        await stop_worker(worker, running, wait_s=0)
    assert len(callbacks) == 3
    assert all(c["status"] in ("queued", "running", "retrying") for c in callbacks)


async def test_a_rule_that_fires_is_called_back_once(
    subscribed: Callable[..., Settings], receivers: Any, sandbox: Any, tmp_path: Any
) -> None:
    from expbridge.config.loading import load_config
    from tests.workers.rules.test_trigger import RULE, days_ago, threshold

    secret = new_secret()
    receiver = await receivers(secret)
    path = tmp_path / "rules.yaml"
    rule = {**RULE, "actions": [{"event": "experiment.pause"}]}
    path.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    settings = subscribed(
        {"url": receiver.url, "secrets": [secret], "outcomes": ["rule.fired"]}, config=path
    )
    await seed_experiment(sandbox.url, "exp_rule", status="active", started_at=days_ago(3))
    async with running_ingress(settings, load_config(settings)) as ingress:
        first = await accept_event(ingress, threshold("exp_rule"))
        await accept_event(ingress, threshold("exp_rule", value=0.09))  # already fired
        await run_worker_burst(settings)
    [got] = await receiver.received()  # one firing, one callback; no event outcomes wanted
    event = got["event"]
    assert event["type"] == "expbridge.rule.fired" and got["verified_by"] == [0]
    assert event["data"]["rule"] == RULE["name"] and event["data"]["outcome"] == "fired"
    assert event["data"]["trigger"] == first and len(event["data"]["events"]) == 1


async def test_callback_attempts_are_counted_by_outcome(
    subscribed: Callable[..., Settings], receivers: Any, sandbox: Any
) -> None:
    from expbridge.workers.deps import DEPS

    secret = new_secret()
    receiver = await receivers(secret)
    await receiver.behave(fail=1, status=503)
    settings = subscribed(
        {"name": "ok", "url": receiver.url, "secrets": [secret]},
        {"name": "meta", "url": "https://169.254.169.254/latest/", "secrets": [secret]},
    )
    await seed_experiment(sandbox.url, "exp_count")
    async with running_ingress(settings) as ingress:
        await accept_event(ingress, start_event("exp_count"))
        worker = create_worker(settings, burst=True)
        try:
            await asyncio.wait_for(worker.async_run(), 20)
            registry = worker.ctx[DEPS].metrics.registry
        finally:
            await worker.close()
    counted = {
        outcome: registry.get_sample_value("expbridge_callbacks_total", {"outcome": outcome})
        for outcome in ("delivered", "failed", "refused", "rejected")
    }
    assert counted == {"delivered": 1, "failed": 1, "refused": 1, "rejected": None}
    durations = registry.get_sample_value(
        "expbridge_callback_duration_seconds_count", {"outcome": "delivered"}
    )
    assert durations == 1


async def test_a_cancelled_event_is_called_back_with_the_producers_trace(
    subscribed: Callable[..., Settings], receivers: Any, sandbox: Any
) -> None:
    secret = new_secret()
    receiver = await receivers(secret)
    settings = subscribed({"url": receiver.url, "secrets": [secret], "outcomes": ["cancelled"]})
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{trace_id}-00f067aa0ba902b7-01"
    async with running_ingress(settings) as ingress:
        response = await ingress.post_event(
            start_event("exp_never"), headers={"traceparent": traceparent}
        )
        event_id = (await response.json())["id"]
        async with ingress.session.post(
            ingress.url(f"/v1/events/{event_id}/cancel"),
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as answer:
            assert answer.status == 200, await answer.text()
        await run_worker_burst(settings)
        [callback] = await callback_records(ingress)
    [got] = await receiver.received()
    event = got["event"]
    assert event["type"] == "expbridge.event.cancelled" and event["subject"] == event_id
    assert event["data"]["status"] == "cancelled" and got["verified_by"] == [0]
    # The callback belongs to the producer's trace, and says so to the receiver.
    assert callback["trace_id"] == trace_id
    assert got["traceparent"] is not None and got["traceparent"].split("-")[1] == trace_id


async def test_a_scheduled_event_calls_back_when_due_then_when_done(
    subscribed: Callable[..., Settings], receivers: Any, sandbox: Any
) -> None:
    from datetime import UTC, datetime, timedelta

    secret = new_secret()
    receiver = await receivers(secret)
    settings = subscribed(
        {"url": receiver.url, "secrets": [secret], "outcomes": ["due", "succeeded"]}
    )
    await seed_experiment(sandbox.url, "exp_due")
    when = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    worker = create_worker(settings)
    running = asyncio.create_task(worker.async_run())
    try:
        async with running_ingress(settings) as ingress:
            event_id = await accept_event(ingress, start_event("exp_due", not_before=when))
            async with asyncio.timeout(10):
                while True:  # the receiver is another process: poll what it got
                    if len(await receiver.received()) >= 2:
                        break
                    await asyncio.sleep(0.05)
    finally:
        await stop_worker(worker, running, wait_s=0)
    got = [g["event"] for g in await receiver.received()]
    assert [e["type"] for e in got] == ["expbridge.event.due", "expbridge.event.succeeded"]
    assert {e["subject"] for e in got} == {event_id}
    assert got[0]["data"]["status"] == "queued" and got[0]["data"]["not_before"]
