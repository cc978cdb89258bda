"""The soak (`make soak`, not part of `make test`): minutes of load through real processes —
`expbridge serve` and three `expbridge worker`s against a real redis-server with AOF — while
the sandbox fails, drops and loses answers, workers are killed and never replaced, and Redis
is restarted, frozen, made to refuse writes and has its connections dropped. At the end every
accepted event is terminal (succeeded), none is missing, no step took effect twice, per
target the upstream order is the accepted order, and no line is left behind."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from expbridge.cli.redis_server import RedisServer, free_port
from expbridge.config.settings import Settings
from expbridge.events import keys
from tests.conftest import SOURCE_TOKEN
from tests.helpers import add_fault, assert_effectively_once_in_order, seed_experiment
from tests.workers.test_chaos import EXPBRIDGE, all_records, worker_env

pytestmark = pytest.mark.soak
TARGETS = 40
LOAD_S = float(os.environ.get("EXPBRIDGE_SOAK_LOAD_S", "120"))
RATE_PER_TARGET = 1.0  # events per second per target: 40/s in all
PREFIX = "/qonversion/v4/experiments/"


class Fleet:
    """The processes under test; killed workers are not replaced (no supervisor)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.workers: list[subprocess.Popen[bytes]] = []
        self.serve: subprocess.Popen[bytes] | None = None

    def spawn(self, role: str, name: str) -> subprocess.Popen[bytes]:
        out = (self.logs / f"{name}.log").open("wb")
        return subprocess.Popen([EXPBRIDGE, role], env=self.env, stdout=out, stderr=out)

    def start(self, workers: int) -> None:
        self.serve = self.spawn("serve", "serve")
        self.workers = [self.spawn("worker", f"worker-{n}") for n in range(workers)]

    def kill_worker(self) -> None:
        victim = self.workers.pop(0)
        victim.send_signal(signal.SIGKILL)
        victim.wait()

    def stop(self) -> None:
        for process in [*self.workers, self.serve]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, self.serve]:
            if process is not None:
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()


async def post_until_accepted(
    session: aiohttp.ClientSession, url: str, event: dict[str, Any], key: str
) -> tuple[str, int]:
    """Like a careful producer: the same Idempotency-Key until a 202 (503s while Redis is
    away, connections refused while the ingress waits). Gives the id and the 503s met."""
    unavailable = 0
    headers = {"Authorization": f"Bearer {SOURCE_TOKEN}", "Idempotency-Key": key}
    while True:
        try:
            async with session.post(url, json=event, headers=headers) as response:
                if response.status == 202:
                    return (await response.json())["id"], unavailable
                assert response.status == 503, (response.status, await response.text())
                assert response.content_type == "application/problem+json"
                unavailable += 1
        except (aiohttp.ClientError, TimeoutError):
            unavailable += 1
        await asyncio.sleep(0.2)


async def producer(base_url: str, target: int, stop_at: float) -> tuple[list[str], int]:
    accepted: list[str] = []
    refused = 0
    n = 0
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while time.monotonic() < stop_at:
            event = {
                "type": "experiment.start" if n % 2 == 0 else "experiment.pause",
                "data": {"target": {"provider": "qonversion", "experiment_id": f"exp_s{target}"}},
            }
            event_id, unavailable = await post_until_accepted(
                session, f"{base_url}/v1/events", event, f"soak-{target}-{n}"
            )
            accepted.append(event_id)
            refused += unavailable
            n += 1
            await asyncio.sleep(1 / RATE_PER_TARGET)
    return accepted, refused


async def redis_command(url: str, *args: Any) -> None:
    client = aioredis.Redis.from_url(url, socket_timeout=2)
    try:
        await client.execute_command(*args)
    finally:
        await client.aclose()


async def weather(redis: RedisServer, fleet: Fleet, started: float, log: list[str]) -> None:
    """The faults, at fixed moments of the load (fractions of LOAD_S)."""

    async def at(fraction: float, what: str) -> None:
        await asyncio.sleep(max(0.0, started + fraction * LOAD_S - time.monotonic()))
        log.append(f"{time.monotonic() - started:6.1f}s {what}")

    await at(0.15, "SIGKILL a worker")
    fleet.kill_worker()
    await at(0.30, "Redis SIGKILL and restart (AOF)")
    assert redis.process is not None
    redis.process.send_signal(signal.SIGKILL)
    redis.process.wait()
    await asyncio.sleep(3)
    redis.start()
    await at(0.45, "CLIENT KILL x3")
    for _ in range(3):
        await redis_command(redis.url, "CLIENT", "KILL", "TYPE", "normal")
        await asyncio.sleep(0.5)
    await at(0.60, "Redis frozen (SIGSTOP) 5 s")
    os.kill(redis.process.pid, signal.SIGSTOP)
    await asyncio.sleep(5)
    os.kill(redis.process.pid, signal.SIGCONT)
    await at(0.72, "SIGKILL a worker")
    fleet.kill_worker()
    await at(0.85, "writes refused (ACL) 3 s")
    await redis_command(redis.url, "ACL", "SETUSER", "default", "-set", "-evalsha", "-eval")
    await asyncio.sleep(3)
    await redis_command(redis.url, "ACL", "SETUSER", "default", "+set", "+evalsha", "+eval")


@pytest.mark.timeout(600)
async def test_soak(make_settings: Any, sandbox: Any, tmp_path: Path) -> None:
    rng = random.Random(20261201)
    redis = RedisServer(tmp_path / "redis", fsync="always").start()
    port = free_port()
    settings: Settings = make_settings(redis_url=redis.url)
    env = worker_env(settings, sandbox.url)
    env.update(
        EXPBRIDGE_PORT=str(port),
        EXPBRIDGE_SOURCES=json.dumps({"growth": {"token": SOURCE_TOKEN}}),
        EXPBRIDGE_REDIS_SOCKET_TIMEOUT_S="1",
        EXPBRIDGE_WORKER__SWEEP_INTERVAL_S="2",
        EXPBRIDGE_WORKER__UPSTREAM_TIMEOUT_S="2",
        EXPBRIDGE_WORKER__JOB_TIMEOUT_S="6",
        EXPBRIDGE_RETRY__MAX_ATTEMPTS="500",
        EXPBRIDGE_LOG_LEVEL="INFO",
    )
    for target in range(TARGETS):
        await seed_experiment(sandbox.url, f"exp_s{target}")
    await add_fault(sandbox.url, method="POST", path_prefix=PREFIX, probability=0.05, status=503)
    await add_fault(sandbox.url, method="POST", path_prefix=PREFIX, probability=0.02, drop=True)
    await add_fault(
        sandbox.url,
        method="POST",
        path_prefix=PREFIX,
        probability=0.02,
        drop=True,
        after_handling=True,
    )
    fleet = Fleet(env, tmp_path)
    faults: list[str] = []
    try:
        fleet.start(workers=3)
        base_url = f"http://127.0.0.1:{port}"
        await wait_ready(base_url)
        started = time.monotonic()
        stop_at = started + LOAD_S
        weather_task = asyncio.create_task(weather(redis, fleet, started, faults))
        results = await asyncio.gather(
            *(producer(base_url, t, stop_at + rng.uniform(0, 1)) for t in range(TARGETS))
        )
        await weather_task
        accepted = [ids for ids, _ in results]
        refused = sum(n for _, n in results)
        ids = [event_id for per_target in accepted for event_id in per_target]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            records = await all_records(settings, ids)
            if all(r is not None and r.is_terminal for r in records):
                break
            await asyncio.sleep(1)
        elapsed = time.monotonic() - started
        alive = [w for w in fleet.workers if w.poll() is None]
        lines = await lines_left(settings)
    finally:
        fleet.stop()
        redis.stop()

    assert all(r is not None for r in records), "an accepted event is missing"
    unfinished = [r.id for r in records if r is not None and not r.is_terminal]
    assert not unfinished, f"{len(unfinished)} events never finished in {elapsed:.0f}s"
    failed = [(r.id, r.last_error) for r in records if r is not None and r.status != "succeeded"]
    assert not failed, failed[:3]
    assert lines == 0, f"{lines} lines left behind"
    assert len(alive) == 1, "the surviving worker died (no supervisor restarts it)"

    calls = await assert_effectively_once_in_order(sandbox.url, PREFIX, accepted)
    upstream_faults = sum(1 for c in calls if c["fault"])
    print(
        f"soak: {len(ids)} events accepted over {LOAD_S:.0f}s ({refused} 503s/refusals "
        f"retried by the producers), {upstream_faults} upstream faults, all succeeded in "
        f"{elapsed:.0f}s; faults: " + "; ".join(faults)
    )


async def wait_ready(base_url: str) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"{base_url}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the ingress did not become ready")


async def lines_left(settings: Settings) -> int:
    client = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        return len([key async for key in client.scan_iter(match=keys.ORDER_PATTERN)])
    finally:
        await client.aclose()
