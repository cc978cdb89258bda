"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.workers.worker import create_worker
from tests.conftest import ADMIN_TOKEN


async def run_worker_burst(settings: Settings, max_seconds: float = 20.0) -> None:
    """Run an arq worker until the queue is empty (deferred retries included)."""
    worker = create_worker(settings, burst=True)
    try:
        await asyncio.wait_for(worker.async_run(), max_seconds)
    finally:
        await worker.close()


async def sandbox_call(sandbox_url: str, method: str, path: str, body: Any = None) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{sandbox_url}{path}", json=body) as response,
    ):
        assert response.status < 300, await response.text()
        return await response.json(content_type=None) if response.status != 204 else None


async def seed_experiment(sandbox_url: str, experiment_id: str, **fields: Any) -> None:
    experiment = {"id": experiment_id, "name": f"Test {experiment_id}", "status": "draft"}
    experiment.setdefault("alias_id", f"alias_{experiment_id}")
    experiment.update(fields)
    await sandbox_call(
        sandbox_url, "POST", "/_sandbox/seed", {"qonversion": {"experiments": [experiment]}}
    )


async def qonversion_experiment(sandbox_url: str, experiment_id: str) -> dict[str, Any]:
    state = await sandbox_call(sandbox_url, "GET", "/_sandbox/state")
    experiment: dict[str, Any] = state["qonversion"]["experiments"][experiment_id]
    return experiment


async def sandbox_requests(sandbox_url: str, path_prefix: str = "") -> list[dict[str, Any]]:
    query = f"?path_prefix={path_prefix}" if path_prefix else ""
    rows: list[dict[str, Any]] = await sandbox_call(
        sandbox_url, "GET", f"/_sandbox/requests{query}"
    )
    return rows


async def queued_jobs(settings: Settings) -> int:
    client = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        return int(await client.zcard(settings.queue_name))
    finally:
        await client.aclose()


async def stored_event_count(settings: Settings) -> int:
    client = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        return int(await client.zcard(keys.EVENT_INDEX))
    finally:
        await client.aclose()


def start_event(experiment_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "experiment.start",
        "data": {"target": {"provider": "qonversion", "experiment_id": experiment_id}},
        **extra,
    }


async def add_fault(sandbox_url: str, **spec: Any) -> None:
    await sandbox_call(sandbox_url, "POST", "/_sandbox/faults", spec)


def parse_time(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()


async def sandbox_state(sandbox_url: str) -> dict[str, Any]:
    state: dict[str, Any] = await sandbox_call(sandbox_url, "GET", "/_sandbox/state")
    return state


async def seed_sandbox(sandbox_url: str, **sections: dict[str, Any]) -> None:
    """`seed_sandbox(url, convert={"projects": [...]}, qonversion={...})`."""
    await sandbox_call(sandbox_url, "POST", "/_sandbox/seed", sections)


def convert_overrides(sandbox_url: str, version: str) -> dict[str, Any]:
    """make_settings(convert=...) for the sandbox's Convert account through API `version`."""
    return {
        "app_id": "sandbox-app",
        "app_secret": "sandbox-secret",
        "api_version": version,
        "base_url": f"{sandbox_url}/convert/api/{version}",
        "account_id": "1000",
    }


async def accept_event(ingress: Any, event: dict[str, Any]) -> str:
    """Post through the real ingress (tests.conftest.Ingress); the bridge's event id."""
    response = await ingress.post_event(event)
    assert response.status == 202, await response.text()
    event_id: str = (await response.json())["id"]
    return event_id


async def carry_out(ingress: Any, settings: Settings, event: dict[str, Any]) -> dict[str, Any]:
    """Accept one event, run a burst worker, and give back its status record."""
    event_id = await accept_event(ingress, event)
    await run_worker_burst(settings)
    record: dict[str, Any] = await ingress.get_record(event_id)
    return record


@contextlib.asynccontextmanager
async def running_worker(settings: Settings) -> AsyncIterator[None]:
    """A real (not burst) arq worker in this loop for as long as the block runs."""
    from expbridge.cli.worker_runner import stop_worker

    worker = create_worker(settings)
    running = asyncio.create_task(worker.async_run())
    try:
        yield
    finally:
        await stop_worker(worker, running, wait_s=0)


async def wait_status(ingress: Any, event_id: str, *statuses: str, timeout_s: float = 10) -> Any:
    """Poll the status record until it has one of `statuses`; the record."""
    deadline = time.monotonic() + timeout_s
    while True:
        record = await ingress.get_record(event_id, token=ADMIN_TOKEN)
        if record["status"] in statuses:
            return record
        assert time.monotonic() < deadline, f"{event_id} never {statuses}: {record}"
        await asyncio.sleep(0.02)


async def assert_effectively_once_in_order(
    sandbox_url: str, path_prefix: str, accepted: list[list[str]]
) -> list[dict[str, Any]]:
    """What reached the sandbox: no done step took effect twice (by Idempotency-Key), and per
    target (each list of `accepted`) the upstream order is the accepted order. The calls."""
    from collections import defaultdict

    calls = await sandbox_requests(sandbox_url, path_prefix)
    applied: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for call in calls:
        took_effect = (call["status"] is not None and 200 <= call["status"] < 300) or (
            (call["fault"] or "").endswith("(after)")
        )
        if took_effect and not call["idempotent_replay"]:
            applied[call["idempotency_key"]].append(call)
    twice = {key: len(v) for key, v in applied.items() if len(v) > 1}
    assert not twice, twice
    first_effect = {key.split(".")[0]: min(c["seq"] for c in v) for key, v in applied.items()}
    for per_target in accepted:
        assert sorted(per_target, key=lambda event_id: first_effect[event_id]) == per_target
    return calls
