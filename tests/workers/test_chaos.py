"""Chaos: 1,000 events over many targets, 3 worker processes killed with SIGKILL at random
moments, and a sandbox that fails, drops and loses answers. At the end every event is
succeeded or dead, none is missing, no step took effect twice, and per target the upstream
order is the accepted order."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.record import EventRecord
from tests.conftest import SANDBOX_KEY, Ingress
from tests.helpers import add_fault, assert_effectively_once_in_order, seed_experiment

TARGETS = 50
EVENTS_PER_TARGET = 20  # alternating start / pause: any reordering upstream would be a 409
WORKERS = 3
KILLS = 5
EXPBRIDGE = str(Path(sys.executable).parent / "expbridge")


def worker_env(settings: Settings, sandbox_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPBRIDGE_")}
    env.update(
        EXPBRIDGE_REDIS_URL=settings.redis_url or "",
        EXPBRIDGE_QUEUE_NAME=settings.queue_name,
        EXPBRIDGE_QONVERSION__SECRET_KEY=SANDBOX_KEY,
        EXPBRIDGE_QONVERSION__BASE_URL=f"{sandbox_url}/qonversion/v4",
        EXPBRIDGE_LOG_LEVEL="WARNING",
        EXPBRIDGE_LOG_FORMAT="json",
        EXPBRIDGE_WORKER__POLL_DELAY_S="0.01",
        EXPBRIDGE_WORKER__UPSTREAM_TIMEOUT_S="1",
        EXPBRIDGE_WORKER__JOB_TIMEOUT_S="2",
        EXPBRIDGE_WORKER__METRICS_PORT="0",
        EXPBRIDGE_RETRY__BASE_DELAY_S="0.05",
        EXPBRIDGE_RETRY__MAX_DELAY_S="0.3",
        EXPBRIDGE_RETRY__MAX_ATTEMPTS="60",
        EXPBRIDGE_PACE__QONVERSION__REQUESTS_PER_SECOND="5000",
        EXPBRIDGE_PACE__QONVERSION__MAX_CONCURRENCY="100",
        EXPBRIDGE_PACE__QONVERSION__BREAKER_FAILURES="50",
        EXPBRIDGE_PACE__QONVERSION__BREAKER_COOLDOWN_S="0.2",
    )
    return env


class Workers:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []
        self.spawned = 0

    def spawn(self) -> None:
        self.spawned += 1
        log = (self.logs / f"worker-{self.spawned}.log").open("wb")
        self.processes.append(
            subprocess.Popen([EXPBRIDGE, "worker"], env=self.env, stdout=log, stderr=log)
        )

    def kill_one(self, rng: random.Random) -> None:
        victim = self.processes.pop(rng.randrange(len(self.processes)))
        victim.send_signal(signal.SIGKILL)
        victim.wait()

    def stop_all(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


async def post_target(ingress: Ingress, target: int) -> list[str]:
    """One producer per target: its events are accepted in this order."""
    accepted = []
    for n in range(EVENTS_PER_TARGET):
        event = {
            "type": "experiment.start" if n % 2 == 0 else "experiment.pause",
            "data": {"target": {"provider": "qonversion", "experiment_id": f"exp_c{target}"}},
        }
        response = await ingress.post_event(event)
        assert response.status == 202, await response.text()
        accepted.append((await response.json())["id"])
    return accepted


async def all_records(settings: Settings, ids: list[str]) -> list[EventRecord | None]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        raws = await client.mget([keys.event(i) for i in ids])
    finally:
        await client.aclose()
    return [EventRecord.model_validate_json(r) if r is not None else None for r in raws]


@pytest.mark.slow
@pytest.mark.timeout(150)
async def test_chaos(ingress: Ingress, settings: Settings, sandbox: Any, tmp_path: Path) -> None:
    rng = random.Random(20261122)
    for target in range(TARGETS):
        await seed_experiment(sandbox.url, f"exp_c{target}")
    prefix = "/qonversion/v4/experiments/"
    await add_fault(sandbox.url, method="POST", path_prefix=prefix, probability=0.08, status=503)
    await add_fault(sandbox.url, method="POST", path_prefix=prefix, probability=0.03, drop=True)
    # Applied upstream, answer lost: the retry must not apply it again.
    await add_fault(
        sandbox.url,
        method="POST",
        path_prefix=prefix,
        probability=0.03,
        drop=True,
        after_handling=True,
    )

    workers = Workers(worker_env(settings, sandbox.url), tmp_path)
    for _ in range(WORKERS):
        workers.spawn()
    started = time.monotonic()
    try:
        producers = [asyncio.create_task(post_target(ingress, t)) for t in range(TARGETS)]
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            workers.kill_one(rng)
            workers.spawn()
        accepted = await asyncio.gather(*producers)
        ids = [event_id for per_target in accepted for event_id in per_target]
        assert len(ids) == TARGETS * EVENTS_PER_TARGET
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            records = await all_records(settings, ids)
            if all(r is not None and r.is_terminal for r in records):
                break
            await asyncio.sleep(0.5)
    finally:
        workers.stop_all()
    elapsed = time.monotonic() - started

    # No accepted event is missing, and every one reached a terminal status.
    records = await all_records(settings, ids)
    assert all(r is not None for r in records), "an accepted event is missing"
    unfinished = [r.id for r in records if r is not None and not r.is_terminal]
    assert not unfinished, f"{len(unfinished)} events never finished in {elapsed:.0f}s"
    by_id = {r.id: r for r in records if r is not None}
    assert all(r.status == "succeeded" for r in by_id.values()), [
        (r.id, r.last_error) for r in by_id.values() if r.status != "succeeded"
    ][:3]

    # No done step reached the sandbox twice; per target, upstream order is accepted order.
    calls = await assert_effectively_once_in_order(sandbox.url, prefix, accepted)
    faults = sum(1 for c in calls if c["fault"])
    print(f"chaos: {len(ids)} events, {faults} faults, {KILLS} kills, {elapsed:.1f}s")
