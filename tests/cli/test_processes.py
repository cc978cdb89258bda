"""The real processes: `expbridge run`, and `serve` + `worker` apart against one Redis."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from expbridge.cli.redis_server import free_port
from tests.conftest import SOURCE_TOKEN
from tests.helpers import qonversion_experiment

EXPBRIDGE = str(Path(sys.executable).parent / "expbridge")


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPBRIDGE_")}
    env.update(
        EXPBRIDGE_DATA_DIR=str(tmp_path / "data"),
        EXPBRIDGE_LOG_FORMAT="json",
        EXPBRIDGE_WORKER__POLL_DELAY_S="0.01",
        EXPBRIDGE_WORKER__METRICS_PORT="0",  # test workers share no fixed port
    )
    env.update(extra)
    return env


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen([EXPBRIDGE, *args], env=env, stdout=out, stderr=subprocess.STDOUT)


async def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                async with session.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"not ready: {log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


async def send_and_wait(env: dict[str, str], url: str, *extra: str) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        EXPBRIDGE,
        "send",
        "experiment.start",
        "--target",
        "qonversion:exp_demo",
        "--url",
        url,
        "--wait",
        "--timeout",
        "20",
        *extra,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    text = out.decode()
    assert proc.returncode == 0, text
    # `send --wait` prints the 202 answer, then the final record.
    decoder = json.JSONDecoder()
    first, end = decoder.raw_decode(text)
    final, _ = decoder.raw_decode(text[end:].lstrip())
    assert first["status"] == "queued"
    record: dict[str, Any] = final
    return record


@pytest.mark.slow
async def test_run_all_in_one_then_send_wait(tmp_path: Path) -> None:
    port, sandbox_port = free_port(), free_port()
    env = base_env(
        tmp_path, EXPBRIDGE_PORT=str(port), EXPBRIDGE_SANDBOX_URL=f"http://127.0.0.1:{sandbox_port}"
    )
    log = tmp_path / "run.log"
    process = spawn(["run"], env, log)
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url, process, log)
        record = await send_and_wait(env, url)
        assert record["status"] == "succeeded", record
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        assert (await qonversion_experiment(sandbox_url, "exp_demo"))["status"] == "active"
    finally:
        assert stop(process) == 0, log.read_text()
    # The embedded Redis kept its data (AOF) under the data dir, and the log said so.
    assert (tmp_path / "data" / "redis").is_dir()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any("sandbox" in line["event"] for line in lines)
    assert not any(
        line.get("event") == "job attempt" and line.get("status") != "succeeded" for line in lines
    )


async def wait_sandbox(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                async with session.get(f"{url}/_sandbox/state") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"sandbox not up: {log.read_text()}")


@pytest.mark.slow
async def test_serve_and_worker_as_separate_processes(tmp_path: Path, redis_url: str) -> None:
    """The README's example as written: `expbridge sandbox` (which seeds exp_demo, like
    `run`), `serve` and `worker` apart, then `send ... qonversion:exp_demo --wait`."""
    port, sandbox_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = base_env(
        tmp_path,
        EXPBRIDGE_PORT=str(port),
        EXPBRIDGE_REDIS_URL=redis_url,
        EXPBRIDGE_SOURCES=json.dumps({"growth": {"token": SOURCE_TOKEN}}),
        EXPBRIDGE_SANDBOX_URL=sandbox_url,
    )
    sandbox_log = tmp_path / "sandbox.log"
    serve_log, worker_log = tmp_path / "serve.log", tmp_path / "worker.log"
    sandbox = spawn(["sandbox", "--port", str(sandbox_port)], env, sandbox_log)
    serve = worker = None
    try:
        await wait_sandbox(sandbox_url, sandbox, sandbox_log)
        serve = spawn(["serve"], env, serve_log)
        worker = spawn(["worker"], env, worker_log)
        url = f"http://127.0.0.1:{port}"
        await wait_healthy(url, serve, serve_log)
        record = await send_and_wait(env, url, "--token", SOURCE_TOKEN)
        assert record["status"] == "succeeded", record
        assert record["steps"][0]["upstream_status"] == 200
        assert (await qonversion_experiment(sandbox_url, "exp_demo"))["status"] == "active"
    finally:
        for process, log in ((serve, serve_log), (worker, worker_log), (sandbox, sandbox_log)):
            if process is not None:
                assert stop(process) == 0, log.read_text()
    worker_lines = [json.loads(x) for x in worker_log.read_text().splitlines() if x.startswith("{")]
    attempt = next(line for line in worker_lines if line.get("event") == "job attempt")
    for field in ("event_id", "type", "source", "target", "attempt", "duration_ms"):
        assert field in attempt, attempt
    assert SOURCE_TOKEN not in worker_log.read_text() + serve_log.read_text()


def test_serve_without_redis_url_says_what_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        [EXPBRIDGE, "serve"], env=base_env(tmp_path), capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0
    assert "EXPBRIDGE_REDIS_URL" in result.stderr


def test_invalid_setting_stops_start_up_with_one_line(tmp_path: Path) -> None:
    env = base_env(tmp_path, EXPBRIDGE_PORT="http")
    result = subprocess.run([EXPBRIDGE, "run"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "EXPBRIDGE_PORT" in result.stderr
    assert "Traceback" not in result.stderr
