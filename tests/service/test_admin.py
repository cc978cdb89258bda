"""Admin endpoints: listing, dead letters, and replay that keeps done steps."""

from __future__ import annotations

import asyncio
from typing import Any

from expbridge.config.settings import Settings
from tests.conftest import ADMIN_TOKEN, SOURCE_TOKEN, Ingress
from tests.helpers import run_worker_burst, sandbox_requests, seed_experiment, start_event

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def admin_get(ingress: Ingress, path: str) -> Any:
    async with ingress.session.get(ingress.url(path), headers=ADMIN) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def admin_post(ingress: Ingress, path: str, body: Any = None) -> tuple[int, Any]:
    async with ingress.session.post(ingress.url(path), headers=ADMIN, json=body) as response:
        return response.status, await response.json(content_type=None)


async def accept(ingress: Ingress, event: dict[str, Any]) -> str:
    response = await ingress.post_event(event)
    assert response.status == 202
    event_id: str = (await response.json())["id"]
    # The index is scored in ms and ties go by id: apart by 2 ms, the newest-first order of a
    # listing is the order of acceptance, which the test compares with received_at.
    await asyncio.sleep(0.002)
    return event_id


async def test_admin_endpoints_need_the_admin_token(ingress: Ingress) -> None:
    for method, path in [
        ("GET", "/v1/events"),
        ("GET", "/v1/dead-letters"),
        ("POST", "/v1/dead-letters/replay"),
        ("POST", "/v1/events/evt_x/replay"),
    ]:
        for headers in ({}, {"Authorization": f"Bearer {SOURCE_TOKEN}"}):
            async with ingress.session.request(method, ingress.url(path), headers=headers) as r:
                assert r.status == 401, (method, path)
                assert r.headers["Content-Type"].startswith("application/problem+json")


async def test_list_events_newest_first_with_filters_and_cursor(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_ok")
    ids = [await accept(ingress, start_event(f"exp_{n}")) for n in range(5)]
    ok = await accept(ingress, start_event("exp_ok"))
    await run_worker_burst(settings)

    page = await admin_get(ingress, "/v1/events?limit=4")
    assert len(page["data"]) == 4
    # Newest first to the millisecond: the index scores milliseconds, ties go by id.
    received = [r["received_at"][:23] for r in page["data"]]
    assert received == sorted(received, reverse=True)
    seen = [r["id"] for r in page["data"]]
    rest = await admin_get(ingress, f"/v1/events?limit=10&cursor={page['next_cursor']}")
    seen += [r["id"] for r in rest["data"]]
    assert sorted(seen) == sorted([*ids, ok]) and len(set(seen)) == 6
    dead = await admin_get(ingress, "/v1/events?status=dead")
    assert sorted(r["id"] for r in dead["data"]) == sorted(ids)
    succeeded = await admin_get(ingress, "/v1/events?status=succeeded&type=experiment.start")
    assert [r["id"] for r in succeeded["data"]] == [ok]
    async with ingress.session.get(ingress.url("/v1/events?limit=0"), headers=ADMIN) as r:
        assert r.status == 422


async def test_dead_letter_replay_one_and_many(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    first = await accept(ingress, start_event("exp_later"))
    others = [await accept(ingress, start_event(f"exp_gone_{n}")) for n in range(3)]
    await run_worker_burst(settings)
    letters = await admin_get(ingress, "/v1/dead-letters")
    assert sorted(r["id"] for r in letters["data"]) == sorted([first, *others])
    assert all(r["last_error"]["upstream_status"] == 404 for r in letters["data"])

    # Not dead yet / unknown ids are refused clearly.
    status, body = await admin_post(ingress, "/v1/events/evt_unknown/replay")
    assert status == 404

    await seed_experiment(sandbox.url, "exp_later")
    status, body = await admin_post(ingress, f"/v1/events/{first}/replay")
    assert status == 202 and body["status"] == "queued"
    status, _ = await admin_post(ingress, f"/v1/events/{first}/replay")
    assert status == 409  # queued again, not dead
    await run_worker_burst(settings)
    record = await ingress.get_record(first)
    assert record["status"] == "succeeded" and record["replays"] == 1
    # The replay sent the failed step again under a fresh key (dispatch 2).
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments/exp_later/status")
    assert [c["idempotency_key"].split(".")[1] for c in calls] == ["1", "2"]

    for n in range(3):
        await seed_experiment(sandbox.url, f"exp_gone_{n}")
    status, body = await admin_post(
        ingress, "/v1/dead-letters/replay", {"type": "experiment.start", "limit": 2}
    )
    assert status == 200 and len(body["replayed"]) == 2
    status, body = await admin_post(ingress, "/v1/dead-letters/replay", {"ids": others})
    assert [r["outcome"] for r in body["replayed"]] == ["requeued"]
    assert sorted(r["outcome"] for r in body["skipped"]) == ["not_dead", "not_dead"]
    await run_worker_burst(settings)
    for event_id in others:
        assert (await ingress.get_record(event_id))["status"] == "succeeded"
    assert (await admin_get(ingress, "/v1/dead-letters"))["data"] == []
