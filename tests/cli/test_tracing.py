"""One trace from the producer's request to the provider's API, across real processes: the
sandbox, `expbridge serve` and `expbridge worker`, exporting to an OTLP/HTTP receiver on
loopback. The traceparent the sandbox receives belongs to the trace the producer started."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from expbridge.cli.redis_server import free_port
from tests.cli.test_processes import base_env, spawn, stop, wait_healthy
from tests.conftest import ADMIN_TOKEN, SANDBOX_KEY, SOURCE_TOKEN
from tests.helpers import add_fault, sandbox_requests, seed_experiment
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.slack_standin import SIGNING_SECRET, signed_headers, slash_command

STATUS_TEMPLATE = "/qonversion/v4/experiments/{experiment_id}/status"
SECRETS = (SOURCE_TOKEN, SANDBOX_KEY, ADMIN_TOKEN, SIGNING_SECRET)


def traceparent(trace_id: str, span_id: str) -> str:
    return f"00-{trace_id}-{span_id}-01"


def start(experiment_id: str) -> dict[str, Any]:
    target = {"provider": "qonversion", "experiment_id": experiment_id}
    return {"type": "experiment.start", "data": {"target": target}}


@pytest.fixture
async def receiver() -> AsyncIterator[OtlpReceiver]:
    receiver = await OtlpReceiver().start()
    yield receiver
    await receiver.close()


@pytest.fixture
async def sandbox_process(tmp_path: Path) -> AsyncIterator[str]:
    """The sandbox as its own process (`expbridge sandbox`), on a random loopback port."""
    port = free_port()
    log = tmp_path / "sandbox.log"
    process = spawn(["sandbox", "--port", str(port)], base_env(tmp_path), log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as session:
        while True:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            try:
                async with session.get(f"{url}/_sandbox/state") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


class Bridge:
    """`serve` and `worker` as separate processes against one Redis and the sandbox process."""

    def __init__(self, tmp_path: Path, redis_url: str, sandbox_url: str, **otel: str) -> None:
        config = tmp_path / "expbridge.yaml"
        config.write_text(yaml.safe_dump({"chatops": {"slack": {"permissions": [
            {"users": ["*"], "commands": ["start", "pause", "stop", "status"]},
        ]}}}))  # fmt: skip
        self.port = free_port()
        self.env = base_env(
            tmp_path, EXPBRIDGE_PORT=str(self.port), EXPBRIDGE_REDIS_URL=redis_url,
            EXPBRIDGE_SOURCES=json.dumps({"growth": {"token": SOURCE_TOKEN}}),
            EXPBRIDGE_ADMIN_TOKEN=ADMIN_TOKEN, EXPBRIDGE_CONFIG=str(config),
            EXPBRIDGE_QONVERSION__SECRET_KEY=SANDBOX_KEY,
            EXPBRIDGE_QONVERSION__BASE_URL=f"{sandbox_url}/qonversion/v4",
            EXPBRIDGE_SANDBOX_URL=sandbox_url,
            EXPBRIDGE_RETRY__BASE_DELAY_S="0.05", EXPBRIDGE_RETRY__MAX_DELAY_S="0.2",
            EXPBRIDGE_SLACK__SIGNING_SECRET=SIGNING_SECRET,
            EXPBRIDGE_SLACK__ALLOWED_HOSTS='["127.0.0.1"]',
            **otel,
        )  # fmt: skip
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


@pytest.mark.slow
async def test_one_trace_from_the_post_to_the_provider(
    tmp_path: Path, redis_url: str, sandbox_process: str, receiver: OtlpReceiver
) -> None:
    for experiment_id in ("exp_t1", "exp_t2", "exp_t3", "exp_t4"):
        await seed_experiment(sandbox_process, experiment_id)
    # The first set_status of exp_t1 answers 503: the step is retried in a second attempt.
    await add_fault(sandbox_process, method="POST", status=503, count=1,
                    path_prefix="/qonversion/v4/experiments/exp_t1/status")  # fmt: skip
    producer = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
    structured = ("11111111111111111111111111111111", "2222222222222222")
    binary = ("33333333333333333333333333333333", "4444444444444444")
    otel = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "always_on",
    }
    async with Bridge(tmp_path, redis_url, sandbox_process, **otel) as bridge:
        plain = await bridge.post(start("exp_t1"), {"traceparent": traceparent(*producer)})
        # Structured mode: the CloudEvents extension wins over the transport's header.
        cloudevent = {"specversion": "1.0", "id": "ce-1", "source": "/growth",
                      **start("exp_t2"), "traceparent": traceparent(*structured)}  # fmt: skip
        ce_headers = {"Content-Type": "application/cloudevents+json",
                      "traceparent": traceparent("9" * 32, "9" * 16)}  # fmt: skip
        first = await bridge.post(cloudevent, ce_headers)
        # The same event again under another trace is the same event (not a 422).
        again = {**cloudevent, "traceparent": traceparent("5" * 32, "5" * 16)}
        replay = await bridge.post(again, ce_headers)
        assert (replay["id"], replay["replayed"]) == (first["id"], True)
        binary_headers = {
            "Content-Type": "application/json", "ce-specversion": "1.0", "ce-id": "ce-2",
            "ce-source": "/growth", "ce-type": "experiment.start",
            "ce-traceparent": traceparent(*binary),
        }  # fmt: skip
        in_binary = await bridge.post(start("exp_t3")["data"], binary_headers)
        body = slash_command("start qonversion:exp_t4", f"{bridge.url}/nowhere")
        async with bridge.session.post(
            f"{bridge.url}/v1/chatops/slack", data=body, headers=signed_headers(body)
        ) as response:
            answer = (await response.json())["text"]
        records = [await bridge.finished(e["id"]) for e in (plain, first, in_binary)]
        assert [r["status"] for r in records] == ["succeeded"] * 3, records
        await receiver.wait_for("attempt experiment.start", 5)
        bridge.stop()
    lines = bridge.log_lines("worker") + bridge.log_lines("serve")

    # The status records carry the producers' trace ids; the Slack answer its own.
    assert [r["trace_id"] for r in records] == [producer[0], structured[0], binary[0]]
    assert "trace_context" not in records[0]
    slack_trace = one([s for s in receiver.spans if s.name == "slack /exp"]).trace_id
    assert f"(trace {slack_trace})" in answer

    # Ingress: the accept span continues the producer's span.
    accepts = {s.trace_id: s for s in receiver.named("POST /v1/events")}
    for trace_id, span_id in (producer, structured, binary):
        accept = accepts[trace_id]
        assert (accept.parent_span_id, accept.kind, accept.service) == (
            span_id,
            "server",
            "expbridge-ingress",
        )
    # The transport's header lost to the extension; the replay was a request of its own trace.
    assert "9" * 32 not in accepts and "5" * 32 in accepts

    # Worker: two attempts of exp_t1, each a child of the accept span, each with one step and
    # one request span under it; the first answered 503 and left a retry event.
    accept = accepts[producer[0]]
    attempts = sorted(receiver.children(accept), key=lambda s: s.attributes["expbridge.attempt"])
    assert [(a.name, a.kind, a.service) for a in attempts] == [
        ("attempt experiment.start", "consumer", "expbridge-worker")
    ] * 2
    requests = []
    for attempt in attempts:
        step = one(receiver.children(attempt))
        assert step.name == "step qonversion.set_status"
        request = one(receiver.children(step))
        assert request.name == f"POST {STATUS_TEMPLATE}" and request.kind == "client"
        assert request.attributes["url.template"] == STATUS_TEMPLATE
        assert request.attributes["http.request.method"] == "POST"
        assert request.attributes["server.address"] == "127.0.0.1"
        requests.append(request)
    assert [r.attributes["http.response.status_code"] for r in requests] == [503, 200]
    assert [r.status_code for r in requests] == [2, 0]
    assert [name for name, _ in attempts[0].events] == ["retry"]
    assert attempts[0].events[0][1]["http.response.status_code"] == 503
    assert attempts[1].events == []
    assert attempts[0].status_code == 2 and attempts[1].attributes["expbridge.event.status"] == (
        "succeeded"
    )

    # The provider received the traceparent of each request span.
    received = [
        r["headers"].get("traceparent")
        for r in await sandbox_requests(sandbox_process, "/qonversion/v4/experiments/exp_t1/status")
    ]
    assert received == [traceparent(producer[0], r.span_id) for r in requests]

    # The Slack command's event continues the command's trace.
    slack_span = one(receiver.named("slack /exp"))
    assert one(receiver.children(slack_span)).name == "attempt experiment.start"

    # Log lines carry the active span's ids.
    attempt_lines = [x for x in lines if x.get("event") == "job attempt"]
    assert {
        (x["trace_id"], x["span_id"]) for x in attempt_lines if x["target"] == "qonversion:exp_t1"
    } == {(producer[0], a.span_id) for a in attempts}
    upstream = [
        x
        for x in lines
        if x.get("event") == "upstream request" and x.get("trace_id") == producer[0]
    ]
    assert {x["span_id"] for x in upstream} == {r.span_id for r in requests}
    request_line = next(
        x for x in lines if x.get("event") == "request" and x.get("event_id") == plain["id"]
    )
    assert (request_line["trace_id"], request_line["span_id"]) == (producer[0], accept.span_id)

    # No secret in any span attribute or event attribute.
    exported = json.dumps([[s.attributes, s.events, s.name] for s in receiver.spans])
    for secret in SECRETS:
        assert secret not in exported


@pytest.mark.slow
async def test_off_when_unset_but_the_producers_trace_passes_through(
    tmp_path: Path, redis_url: str, sandbox_process: str, receiver: OtlpReceiver
) -> None:
    await seed_experiment(sandbox_process, "exp_off1")
    await seed_experiment(sandbox_process, "exp_off2")
    producer = ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb")
    # The SDK disabled with an endpoint set, as with none at all: nothing leaves the process.
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_SDK_DISABLED": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "50"}  # fmt: skip
    async with Bridge(tmp_path, redis_url, sandbox_process, **otel) as bridge:
        traced = await bridge.post(start("exp_off1"), {"traceparent": traceparent(*producer)})
        untraced = await bridge.post(start("exp_off2"), {})
        records = [await bridge.finished(e["id"]) for e in (traced, untraced)]
        bridge.stop()
    assert [r["status"] for r in records] == ["succeeded"] * 2
    assert receiver.spans == []
    assert [r["trace_id"] for r in records] == [producer[0], None]
    # The provider still gets the producer's context (no span of ours in between).
    rows = await sandbox_requests(sandbox_process, "/qonversion/v4/experiments/exp_off")
    headers = {row["path"].split("/")[4]: row["headers"].get("traceparent") for row in rows}
    assert headers == {"exp_off1": traceparent(*producer), "exp_off2": None}
    assert not any(x.get("event") == "tracing on" for x in bridge.log_lines("worker"))
