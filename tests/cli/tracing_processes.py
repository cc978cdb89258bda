"""Real processes for the tracing tests: the sandbox (`expbridge sandbox`), `expbridge serve`
and `expbridge worker`, and an OTLP/HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from expbridge.cli.redis_server import free_port
from tests.cli.test_processes import base_env, spawn, stop, wait_healthy
from tests.conftest import ADMIN_TOKEN, SANDBOX_KEY, SOURCE_TOKEN
from tests.otlp_receiver import ReceivedSpan
from tests.slack_standin import SIGNING_SECRET

SECRETS = (SOURCE_TOKEN, SANDBOX_KEY, ADMIN_TOKEN, SIGNING_SECRET)


def traceparent(trace_id: str, span_id: str) -> str:
    return f"00-{trace_id}-{span_id}-01"


def start(experiment_id: str) -> dict[str, Any]:
    target = {"provider": "qonversion", "experiment_id": experiment_id}
    return {"type": "experiment.start", "data": {"target": target}}


class Bridge:
    """`serve` and `worker` as separate processes against one Redis and the sandbox process."""

    def __init__(
        self,
        tmp_path: Path,
        redis_url: str,
        sandbox_url: str,
        rules: list[dict[str, Any]] | None = None,
        **otel: str,
    ) -> None:
        config = tmp_path / "expbridge.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "rules": rules or [],
                    "chatops": {
                        "slack": {
                            "permissions": [
                                {"users": ["*"], "commands": ["start", "pause", "stop", "status"]}
                            ],
                        }
                    },
                }
            )
        )
        self.port = free_port()
        self.env = base_env(
            tmp_path,
            EXPBRIDGE_PORT=str(self.port),
            EXPBRIDGE_REDIS_URL=redis_url,
            EXPBRIDGE_SOURCES=json.dumps({"growth": {"token": SOURCE_TOKEN}}),
            EXPBRIDGE_ADMIN_TOKEN=ADMIN_TOKEN,
            EXPBRIDGE_CONFIG=str(config),
            EXPBRIDGE_QONVERSION__SECRET_KEY=SANDBOX_KEY,
            EXPBRIDGE_QONVERSION__BASE_URL=f"{sandbox_url}/qonversion/v4",
            EXPBRIDGE_SANDBOX_URL=sandbox_url,
            EXPBRIDGE_RETRY__BASE_DELAY_S="0.05",
            EXPBRIDGE_RETRY__MAX_DELAY_S="0.2",
            EXPBRIDGE_SLACK__SIGNING_SECRET=SIGNING_SECRET,
            EXPBRIDGE_SLACK__ALLOWED_HOSTS='["127.0.0.1"]',
            **otel,
        )
        self.logs = {"serve": tmp_path / "serve.log", "worker": tmp_path / "worker.log"}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.url = f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Bridge:
        for role, log in self.logs.items():
            self.processes[role] = spawn([role], self.env, log)
        await wait_healthy(self.url, self.processes["serve"], self.logs["serve"])
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.session.close()
        self.stop()

    def stop(self) -> None:
        """SIGTERM: both exit cleanly, flushing their last spans."""
        for role, process in self.processes.items():
            if process.poll() is None:
                assert stop(process) == 0, self.logs[role].read_text()

    async def post(self, body: Any, headers: dict[str, str]) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {SOURCE_TOKEN}",
            "Content-Type": "application/json",
            **headers,
        }
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.session.post(f"{self.url}/v1/events", data=data, headers=headers) as r:
            assert r.status == 202, await r.text()
            answer: dict[str, Any] = await r.json()
            answer["replayed"] = r.headers.get("Idempotent-Replayed") == "true"
            return answer

    async def finished(self, event_id: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            async with self.session.get(f"{self.url}/v1/events/{event_id}", headers=headers) as r:
                record: dict[str, Any] = await r.json()
            if record["status"] in ("succeeded", "dead"):
                return record
            await asyncio.sleep(0.05)
        raise AssertionError(f"not finished: {record}")

    def log_lines(self, role: str) -> list[dict[str, Any]]:
        text = self.logs[role].read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def one(spans: list[ReceivedSpan]) -> ReceivedSpan:
    assert len(spans) == 1, spans
    return spans[0]
