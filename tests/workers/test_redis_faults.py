"""Redis faults are weather, not death (findings 14-18 of issue 10), against a private
redis-server each test may stop, freeze (SIGSTOP), refuse writes (ACL) or fill (maxmemory):
a job that meets a Redis error runs again and its line is never left without a job, a worker
process rides out an outage and resumes by itself, accepts fail fast with a 503 that says
what happened, and reads answer 503, not 500."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from expbridge.cli.redis_server import RedisServer
from expbridge.config.settings import Settings
from tests.conftest import ADMIN_TOKEN, Ingress, running_ingress
from tests.helpers import (
    accept_event,
    add_fault,
    qonversion_experiment,
    seed_experiment,
    start_event,
)
from tests.service.test_post_event_errors import assert_problem
from tests.workers.test_chaos import EXPBRIDGE, worker_env


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "private-redis").start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            os.kill(server.process.pid, signal.SIGCONT)  # in case a test left it frozen
        server.stop()


@pytest.fixture
def fault_settings(make_settings: Callable[..., Settings], private_redis: RedisServer) -> Settings:
    return make_settings(redis_url=private_redis.url, redis_socket_timeout_s=1.0)


@pytest.fixture
async def fault_ingress(fault_settings: Settings) -> AsyncIterator[Ingress]:
    async with running_ingress(fault_settings) as ingress:
        yield ingress


async def redis_command(url: str, *args: Any) -> Any:
    client = aioredis.Redis.from_url(url)
    try:
        return await client.execute_command(*args)
    finally:
        await client.aclose()


def spawn_worker(settings: Settings, sandbox_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = worker_env(settings, sandbox_url)
    env.update(
        EXPBRIDGE_LOG_LEVEL="INFO",
        EXPBRIDGE_REDIS_SOCKET_TIMEOUT_S="1",
        EXPBRIDGE_WORKER__SWEEP_INTERVAL_S="1",
        EXPBRIDGE_WORKER__UPSTREAM_TIMEOUT_S="5",
        EXPBRIDGE_WORKER__JOB_TIMEOUT_S="10",
    )
    out = log.open("wb")
    return subprocess.Popen([EXPBRIDGE, "worker"], env=env, stdout=out, stderr=out)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def wait_statuses(
    ingress: Ingress, ids: list[str], wanted: set[str], within_s: float
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within_s
    while True:
        records = [await ingress.get_record(i) for i in ids]
        if all(r["status"] in wanted for r in records) or time.monotonic() > deadline:
            return records
        await asyncio.sleep(0.2)


async def test_writes_refused_mid_job_do_not_jam_the_line(
    fault_ingress: Ingress,
    fault_settings: Settings,
    sandbox: Any,
    private_redis: RedisServer,
    tmp_path: Path,
) -> None:
    """Finding 14: the first event's call is held 2 s; meanwhile Redis refuses writes for
    2.5 s (ACL). Its save fails: the job runs again, and the two events behind it follow."""
    await seed_experiment(sandbox.url, "exp_acl")
    await add_fault(
        sandbox.url, path_prefix="/qonversion/v4/experiments/exp_acl", count=1, delay_s=2
    )
    worker = spawn_worker(fault_settings, sandbox.url, tmp_path / "worker.log")
    try:
        ids = [
            await accept_event(fault_ingress, start_event("exp_acl")),
            await accept_event(
                fault_ingress, {**start_event("exp_acl"), "type": "experiment.pause"}
            ),
            await accept_event(fault_ingress, start_event("exp_acl")),
        ]
        await wait_statuses(fault_ingress, ids[:1], {"running"}, within_s=10)
        await redis_command(private_redis.url, "ACL", "SETUSER", "default", "-set", "-evalsha")
        await asyncio.sleep(2.5)
        await redis_command(private_redis.url, "ACL", "SETUSER", "default", "+set", "+evalsha")
        records = await wait_statuses(fault_ingress, ids, {"succeeded", "dead"}, within_s=30)
        assert [r["status"] for r in records] == ["succeeded"] * 3, records
        assert worker.poll() is None, "the worker died"
    finally:
        stop_process(worker)
    assert (await qonversion_experiment(sandbox.url, "exp_acl"))["status"] == "active"


async def test_dropped_connections_mid_job_are_not_dead_letters(
    fault_ingress: Ingress,
    fault_settings: Settings,
    sandbox: Any,
    private_redis: RedisServer,
    tmp_path: Path,
) -> None:
    """Finding 16: CLIENT KILL while jobs run is transient, never `dead` (`internal`)."""
    targets = [f"exp_kill{n}" for n in range(20)]
    for target in targets:
        await seed_experiment(sandbox.url, target)
    await add_fault(sandbox.url, path_prefix="/qonversion/v4/experiments/", delay_s=0.3)
    worker = spawn_worker(fault_settings, sandbox.url, tmp_path / "worker.log")
    try:
        ids = [await accept_event(fault_ingress, start_event(t)) for t in targets for _ in range(2)]
        for _ in range(20):
            await asyncio.sleep(0.1)
            await redis_command(private_redis.url, "CLIENT", "KILL", "TYPE", "normal")
        records = await wait_statuses(fault_ingress, ids, {"succeeded", "dead"}, within_s=40)
        assert all(r["status"] == "succeeded" for r in records), [
            (r["id"], r["status"], r["last_error"]) for r in records if r["status"] != "succeeded"
        ]
        assert worker.poll() is None, "the worker died"
    finally:
        stop_process(worker)


async def test_a_worker_rides_out_a_redis_outage_and_resumes_by_itself(
    fault_settings: Settings, sandbox: Any, private_redis: RedisServer, tmp_path: Path
) -> None:
    """Finding 15: Redis down for 4 s; the worker process stays, and afterwards carries out
    events without anyone restarting it."""
    await seed_experiment(sandbox.url, "exp_out")
    worker = spawn_worker(fault_settings, sandbox.url, tmp_path / "worker.log")
    try:
        async with running_ingress(fault_settings) as ingress:
            first = await accept_event(ingress, start_event("exp_out"))
            assert (await wait_statuses(ingress, [first], {"succeeded"}, 20))[0][
                "status"
            ] == "succeeded"
        private_redis.stop()
        await asyncio.sleep(4)
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
        private_redis.start()  # the same port and AOF directory
        async with running_ingress(fault_settings) as ingress:
            second = await accept_event(
                ingress, {**start_event("exp_out"), "type": "experiment.pause"}
            )
            records = await wait_statuses(ingress, [first, second], {"succeeded"}, within_s=30)
            assert [r["status"] for r in records] == ["succeeded", "succeeded"]
        assert worker.poll() is None
    finally:
        stop_process(worker)
    log = (tmp_path / "worker.log").read_text()
    assert "redis trouble: the worker stops and starts again" in log
    assert (await qonversion_experiment(sandbox.url, "exp_out"))["status"] == "paused"


async def test_a_frozen_redis_gets_fast_503s_and_reads_answer_503(
    fault_ingress: Ingress, private_redis: RedisServer
) -> None:
    """Findings 17 and 18: with Redis stopped (SIGSTOP), an accept answers 503 within about
    the socket timeout (1 s here), saying Redis did not answer; a read answers 503 too."""
    event_id = await accept_event(fault_ingress, start_event("exp_frozen"))
    assert private_redis.process is not None
    os.kill(private_redis.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = await fault_ingress.post_event(start_event("exp_frozen"))
        took = time.monotonic() - started
        problem = await assert_problem(response, 503)
        assert took < 3, took
        assert "did not answer in time" in problem["detail"]
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with fault_ingress.session.get(
            fault_ingress.url(f"/v1/events/{event_id}"), headers=headers
        ) as read:
            await assert_problem(read, 503)
    finally:
        os.kill(private_redis.process.pid, signal.SIGCONT)
    response = await fault_ingress.post_event(start_event("exp_frozen"))
    assert response.status == 202, await response.text()


async def test_redis_down_or_full_says_so(
    fault_ingress: Ingress, private_redis: RedisServer
) -> None:
    """Finding 18: the 503's detail says what happened: out of memory is not "unreachable"."""
    event_id = await accept_event(fault_ingress, start_event("exp_full"))
    await redis_command(private_redis.url, "CONFIG", "SET", "maxmemory", "1")
    try:
        problem = await assert_problem(await fault_ingress.post_event(start_event("exp_full")), 503)
        assert "out of memory" in problem["detail"]
    finally:
        await redis_command(private_redis.url, "CONFIG", "SET", "maxmemory", "0")
    private_redis.stop()
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with fault_ingress.session.get(
        fault_ingress.url(f"/v1/events/{event_id}"), headers=headers
    ) as read:
        problem = await assert_problem(read, 503)
    assert "unreachable" in problem["detail"]
    problem = await assert_problem(await fault_ingress.post_event(start_event("exp_full")), 503)
    assert "unreachable" in problem["detail"]
