"""One trace from the producer's request to the provider's API, across real processes: the
sandbox, `expbridge serve` and `expbridge worker`, exporting to an OTLP/HTTP receiver on
loopback. The traceparent the sandbox receives belongs to the trace the producer started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.tracing_processes import SECRETS, Bridge, one, start, traceparent
from tests.helpers import add_fault, sandbox_requests, seed_experiment
from tests.otlp_receiver import OtlpReceiver
from tests.slack_standin import signed_headers, slash_command

STATUS_TEMPLATE = "/qonversion/v4/experiments/{experiment_id}/status"


@pytest.mark.slow
async def test_one_trace_from_the_post_to_the_provider(
    tmp_path: Path, redis_url: str, sandbox_process: str, receiver: OtlpReceiver
) -> None:
    for experiment_id in ("exp_t1", "exp_t2", "exp_t3", "exp_t4"):
        await seed_experiment(sandbox_process, experiment_id)
    # The first set_status of exp_t1 answers 503: the step is retried in a second attempt.
    await add_fault(
        sandbox_process,
        method="POST",
        status=503,
        count=1,
        path_prefix="/qonversion/v4/experiments/exp_t1/status",
    )
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
        cloudevent = {
            "specversion": "1.0",
            "id": "ce-1",
            "source": "/growth",
            **start("exp_t2"),
            "traceparent": traceparent(*structured),
        }
        ce_headers = {
            "Content-Type": "application/cloudevents+json",
            "traceparent": traceparent("9" * 32, "9" * 16),
        }
        first = await bridge.post(cloudevent, ce_headers)
        # The same event again under another trace is the same event (not a 422).
        again = {**cloudevent, "traceparent": traceparent("5" * 32, "5" * 16)}
        replay = await bridge.post(again, ce_headers)
        assert (replay["id"], replay["replayed"]) == (first["id"], True)
        binary_headers = {
            "Content-Type": "application/json",
            "ce-specversion": "1.0",
            "ce-id": "ce-2",
            "ce-source": "/growth",
            "ce-type": "experiment.start",
            "ce-traceparent": traceparent(*binary),
        }
        in_binary = await bridge.post(start("exp_t3")["data"], binary_headers)
        body = slash_command("start qonversion:exp_t4", f"{bridge.url}/nowhere")
        async with bridge.session.post(
            f"{bridge.url}/v1/chatops/slack", data=body, headers=signed_headers(body)
        ) as response:
            answer = (await response.json())["text"]
        # Every command has its span, and so has a request refused before an accept.
        for text in ("status qonversion:exp_t4", "help"):
            body = slash_command(text, f"{bridge.url}/nowhere")
            async with bridge.session.post(
                f"{bridge.url}/v1/chatops/slack", data=body, headers=signed_headers(body)
            ) as response:
                assert response.status == 200
        refused = ("6" * 32, "7" * 16)
        async with bridge.session.post(
            f"{bridge.url}/v1/events",
            json=start("exp_t1"),
            headers={"Authorization": "Bearer wrong", "traceparent": traceparent(*refused)},
        ) as response:
            assert response.status == 401
        records = [await bridge.finished(e["id"]) for e in (plain, first, in_binary)]
        assert [r["status"] for r in records] == ["succeeded"] * 3, records
        await receiver.wait_for("attempt experiment.start", 5)
        bridge.stop()
    lines = bridge.log_lines("worker") + bridge.log_lines("serve")

    # The status records carry the producers' trace ids; the Slack answer its own.
    assert [r["trace_id"] for r in records] == [producer[0], structured[0], binary[0]]
    assert "trace_context" not in records[0]
    commands = {s.attributes["expbridge.slack.verb"]: s for s in receiver.named("slack /exp")}
    assert {
        verb: (s.kind, s.attributes["expbridge.slack.result"]) for verb, s in commands.items()
    } == {
        "start": ("server", "queued"),
        "status": ("server", "listed"),
        "help": ("server", "help"),
    }
    assert f"(trace {commands['start'].trace_id})" in answer

    # Ingress: the accept span continues the producer's span.
    accepts = {s.trace_id: s for s in receiver.named("POST /v1/events")}
    for trace_id, span_id in (producer, structured, binary):
        accept = accepts[trace_id]
        assert (accept.parent_span_id, accept.kind, accept.service) == (
            span_id,
            "server",
            "expbridge-ingress",
        )
    # The refused request: its status code and problem, a client's error (not the server's).
    refusal = accepts[refused[0]]
    assert refusal.parent_span_id == refused[1] and refusal.status_code == 0
    assert refusal.attributes["http.response.status_code"] == 401
    assert refusal.attributes["expbridge.problem"] == "unauthorized"
    # Its log line names that span, as every line does while a span is active.
    refused_lines = [x for x in lines if x.get("status") == 401 and x.get("event") == "request"]
    assert [(x["trace_id"], x["span_id"]) for x in refused_lines] == [(refused[0], refusal.span_id)]
    # The transport's header lost to the extension; the replay was a request of its own trace.
    assert "9" * 32 not in accepts and "5" * 32 in accepts
    assert accepts["5" * 32].attributes["expbridge.idempotent_replay"] is True
    assert "expbridge.idempotent_replay" not in accepts[structured[0]].attributes

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
    assert one(receiver.children(commands["start"])).name == "attempt experiment.start"
    assert receiver.children(commands["status"]) == receiver.children(commands["help"]) == []

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
    otel = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_SDK_DISABLED": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
    }
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
