"""What tracing costs the accept path: expbridge's POST /v1/events with tracing off (no
OTEL_* set) and on with sampling 1.0, in alternating rounds side by side:
  off         no OTEL_* variables (the default)
  in-process  every span recorded and batched by the SDK, then handed to an in-process
              exporter that drops it (the cost of our instrumentation and the SDK)
  otlp        every span exported over OTLP/HTTP (protobuf) to a receiver process on loopback
              (adds the exporter's protobuf encoding, in the server's own process; the
              encoder alone, ours against the SDK's: bench/span_encoding.py)
Also the off path's own hooks, timed alone per request (what off costs at all).

    .venv/bin/python -m bench.tracing_overhead [--seconds 5] [--connections 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web
from multidict import CIMultiDict

from bench.accept_throughput import EVENT, TOKEN, start_server
from bench.load import LoadResult, python_load, wrk_load
from expbridge.cli.redis_server import RedisServer, free_port

IN_PROCESS_TRACING = "EXPBRIDGE_BENCH_IN_PROCESS_TRACING"


def in_process_tracing() -> None:
    """The SDK as configure_tracing sets it up, with an exporter that drops the batches."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    class Dropping(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Dropping()))
    trace.set_tracer_provider(provider)


def receiver_main(port: int) -> None:
    """A stand-in collector: takes OTLP/HTTP exports, counts them, answers 200."""
    received = {"exports": 0, "bytes": 0}

    async def traces(request: web.Request) -> web.Response:
        received["exports"] += 1
        received["bytes"] += len(await request.read())
        return web.Response(body=b"", content_type="application/x-protobuf")

    async def count(_: web.Request) -> web.Response:
        return web.json_response(received)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/traces", traces)
    app.router.add_get("/count", count)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def start_receiver() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.tracing_overhead", "--receiver", str(port)],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/count", timeout=0.5)
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the OTLP receiver did not start")


def received(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/count", timeout=5) as response:
        counts: dict[str, int] = json.load(response)
        return counts


def off_hooks_us() -> float:
    """The tracing hooks one accepted event runs with tracing off and no traceparent sent: the
    look-up for a producer's trace and the span skipped (service/routes/accept.py; its direct
    log line has no span to ask about)."""
    import contextlib

    from expbridge.service.routes.accept import SPAN_NAME, trace_parent

    class Request:
        headers = CIMultiDict({"Content-Type": "application/json", "Authorization": "x"})

    raw = dict(EVENT)
    traced = False

    def hooks() -> None:
        parent = trace_parent(Request(), raw, False)  # type: ignore[arg-type]
        if traced or parent is not None:
            raise AssertionError(f"off and no trace sent, yet {SPAN_NAME!r} would be made")
        with contextlib.nullcontext():  # submit's span, skipped
            pass

    runs = 100_000
    return timeit.timeit(hooks, number=runs) / runs * 1e6


def cpu_s(pid: int) -> float:
    """The process's CPU time so far, all threads (the exporter's too): /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(url: str, seconds: float, connections: int) -> LoadResult:
    body = json.dumps(EVENT)
    if shutil.which("wrk"):
        return wrk_load(url, body, TOKEN, seconds, connections)
    return python_load(url, body, TOKEN, seconds, connections)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.receiver:
        receiver_main(options.receiver)
        return
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    results: dict[str, list[LoadResult]] = {"off": [], "in-process": [], "otlp": []}
    receiver, receiver_url = start_receiver()
    on_env = {
        **base_env,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver_url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_SERVICE_NAME": "expbridge-bench",
    }
    in_process_env = {**base_env, IN_PROCESS_TRACING: "1"}
    exported = dict.fromkeys(results, 0)
    cpu_us: dict[str, list[float]] = {mode: [] for mode in results}
    try:
        with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as redis_server:
            modes = (("off", base_env), ("in-process", in_process_env), ("otlp", on_env))
            for n in range(options.rounds):
                # The order alternates, so a neighbour's burst does not always hit one mode.
                for mode, env in modes if n % 2 == 0 else tuple(reversed(modes)):
                    before = received(receiver_url)["bytes"]
                    process, port = start_server("expbridge", redis_server.url, env)
                    url = f"http://127.0.0.1:{port}/v1/events"
                    try:
                        started = cpu_s(process.pid)
                        result = load(url, options.seconds, options.connections)
                        requests = result.rps * options.seconds
                        cpu_us[mode].append((cpu_s(process.pid) - started) / requests * 1e6)
                        results[mode].append(result)
                    finally:
                        process.terminate()  # the server flushes its last batch on exit
                        process.wait()
                    exported[mode] += received(receiver_url)["bytes"] - before
    finally:
        receiver.terminate()
        receiver.wait()
    generator = "wrk" if shutil.which("wrk") else "python"
    load_average = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"load: {generator}, {options.connections} connections, {options.seconds:g} s each, "
        f"{options.rounds} alternating rounds; load average {load_average}"
    )
    rps = {}
    for mode, rounds in results.items():
        rps[mode] = statistics.median(r.rps for r in rounds)
        p99 = statistics.median(r.p99_ms for r in rounds)
        each = " ".join(f"{r.rps:.0f}" for r in rounds)
        cpu = statistics.median(cpu_us[mode])
        cpus = " ".join(f"{c:.0f}" for c in cpu_us[mode])
        print(
            f"{mode:10s}  median {rps[mode]:7.0f} req/s (rounds: {each}; CPU {cpus} us)  "
            f"p99 {p99:6.2f} ms  server CPU {cpu:5.0f} us/request  "
            f"OTLP bytes exported {exported[mode]}"
        )
    # On a shared machine throughput moves with the neighbours' load; the server's own CPU
    # per request moves much less, and it is what bounds a CPU-bound accept path.
    off_cpu = statistics.median(cpu_us["off"])
    for mode in ("in-process", "otlp"):
        cpu = statistics.median(cpu_us[mode])
        print(
            f"{mode} vs off: throughput {1 - rps[mode] / rps['off']:+.1%} slower, CPU per "
            f"request {cpu / off_cpu - 1:+.1%} (target <= 10%)"
        )
    hooks = off_hooks_us()
    per_request_us = 1e6 / rps["off"]
    print(
        f"off: the tracing hooks take {hooks:.2f} us of a request's {per_request_us:.0f} us "
        f"({hooks / per_request_us:.2%}; target: not measurable)"
    )


if __name__ == "__main__":
    main()
