"""A record the store cannot read back (written by an older version, or damaged) cannot jam
its line: the worker ends it dead with the reason and hands the line on; reads, listings and
replay keep working (finding 1 of issue 10). And an id that is a dot segment never reaches an
upstream path, even from a stored record (finding 3)."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis

from expbridge.config.settings import Settings
from expbridge.events import keys
from tests.conftest import ADMIN_TOKEN, Ingress
from tests.helpers import (
    accept_event,
    qonversion_experiment,
    run_worker_burst,
    sandbox_requests,
    seed_experiment,
    start_event,
)


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"x": 1}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


async def overwrite_record(settings: Settings, event_id: str, **changes: Any) -> None:
    """What an older ingress (without the depth limit) or a damaged write left in Redis."""
    client = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        record = json.loads(await client.get(keys.event(event_id)))
        record.update(changes)
        await client.set(keys.event(event_id), json.dumps(record))
    finally:
        await client.aclose()


async def test_an_unreadable_head_ends_dead_and_the_line_moves_on(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_1")
    update = {
        "type": "experiment.update",
        "data": {
            "target": {"provider": "qonversion", "experiment_id": "exp_1"},
            "changes": {"description": "d"},
        },
    }
    poisoned = await accept_event(ingress, update)
    behind = await accept_event(ingress, start_event("exp_1"))  # the same line, behind it
    target = {"provider": "qonversion", "experiment_id": "exp_1"}
    await overwrite_record(settings, poisoned, data={"target": target, "changes": nested(250)})

    # Read while it is still queued: 200 with what can be read, never a 500.
    record = await ingress.get_record(poisoned, token=ADMIN_TOKEN)
    assert record["status"] == "queued" and record["last_error"]["kind"] == "unreadable"
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with ingress.session.get(ingress.url("/v1/events"), headers=admin) as response:
        assert response.status == 200, await response.text()
        listed = {r["id"] for r in (await response.json())["data"]}
    assert {poisoned, behind} <= listed

    await run_worker_burst(settings)
    record = await ingress.get_record(poisoned, token=ADMIN_TOKEN)
    assert record["status"] == "dead"
    assert "cannot be read in full" in record["last_error"]["message"]
    assert (await ingress.get_record(behind))["status"] == "succeeded"
    assert (await qonversion_experiment(sandbox.url, "exp_1"))["status"] == "active"
    # A replay of it answers, and the line still moves (it ends dead again: no data to act on).
    url = ingress.url(f"/v1/events/{poisoned}/replay")
    async with ingress.session.post(url, headers=admin) as response:
        assert response.status == 202, await response.text()
    await run_worker_burst(settings)
    assert (await ingress.get_record(poisoned, token=ADMIN_TOKEN))["status"] == "dead"


async def test_a_stored_dot_segment_id_never_reaches_an_upstream_path(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_trav")
    detach = {
        "type": "experiment.user.detach",
        "data": {
            "target": {"provider": "qonversion", "experiment_id": "exp_trav"},
            "user_id": "u1",
        },
    }
    event_id = await accept_event(ingress, detach)
    await overwrite_record(settings, event_id, data={**detach["data"], "user_id": ".."})
    await run_worker_burst(settings)
    assert (await ingress.get_record(event_id))["status"] == "dead"
    paths = [r["path"] for r in await sandbox_requests(sandbox.url, "/qonversion")]
    assert not any(p.endswith("/..") or "/../" in p for p in paths), paths
    assert (await qonversion_experiment(sandbox.url, "exp_trav"))["status"] == "draft"
