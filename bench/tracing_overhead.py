"""What tracing costs the accept path: expbridge's POST /v1/events with tracing off (no
OTEL_* set) and on with sampling 1.0, three servers side by side (in turn, and together:
see measure):
  off         no OTEL_* variables (the default)
  in-process  every span recorded and batched by the SDK, then handed to an in-process
              exporter that drops it (the cost of our instrumentation and the SDK)
  otlp        every span exported over OTLP/HTTP (protobuf) to a receiver process on loopback
              (adds the exporter's protobuf encoding, in the server's own process; the
              encoder alone, ours against the SDK's: bench/span_encoding.py)
Also the off path's own hooks, timed alone per request (what off costs at all).

    .venv/bin/python -m bench.tracing_overhead [--seconds 3] [--connections 32] [--rounds 8]
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
from concurrent.futures import ThreadPoolExecutor
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
    """The tracing hooks one accepted event runs with tracing off and no traceparent sent, as
    the accept path runs them: the look-up for a producer's trace and the span's name
    (service/routes/accept.py), the recorder not chosen and the span skipped, the record's
    trace fields left empty (events/store/submit.py). Its direct log line has no span to ask
    about."""
    from expbridge.events.store.submit import Submission
    from expbridge.service.routes.accept import SPAN_NAME, trace_parent

    class Request:
        headers = CIMultiDict({"Content-Type": "application/json", "Authorization": "x"})

    raw = dict(EVENT)
    traced = False
    about = Submission()  # made on every accept anyway; its span field is the hook's

    def hooks() -> None:
        parent = trace_parent(Request(), raw, False)  # type: ignore[arg-type]
        span = SPAN_NAME if traced or parent is not None else None
        recorder = about.span_recorder if about.span is not None else None
        trace = None
        if span is not None or recorder is not None or about.span is not None:
            raise AssertionError(f"off and no trace sent, yet {SPAN_NAME!r} would be made")
        (trace[0] if trace is not None else None, trace[1] if trace is not None else None)

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


def servers_env(receiver_url: str) -> dict[str, dict[str, str]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return {
        "off": base,
        "in-process": {**base, IN_PROCESS_TRACING: "1"},
        "otlp": {
            **base,
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver_url,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_TRACES_SAMPLER": "always_on",
            "OTEL_SERVICE_NAME": "expbridge-bench",
        },
    }


# One server's run: requests/s, p99 ms, server CPU µs per request.
Run = tuple[float, float, float]


def run_load(process: subprocess.Popen[bytes], url: str, seconds: float, connections: int) -> Run:
    started = cpu_s(process.pid)
    result = load(url, seconds, connections)
    cpu_us = (cpu_s(process.pid) - started) / (result.rps * seconds) * 1e6
    return result.rps, result.p99_ms, cpu_us


def measure(
    redis_url: str, receiver_url: str, options: argparse.Namespace
) -> tuple[dict[str, list[Run]], dict[str, list[Run]]]:
    """Each mode's runs, one per cycle, taken two ways with the same three servers, started
    side by side and warmed up (no start-up or first requests in any run):
      in turn   one server at a time takes the whole load, cycle after cycle, each cycle in
                another order: its throughput alone, seconds from the others'.
      together  the three take a load each at the same time: the same seconds, so the same
                neighbours, for all three; each gets about a third of the machine, and its CPU
                per request is the steadiest figure of the two."""
    envs = servers_env(receiver_url)
    servers = {mode: start_server("expbridge", redis_url, env) for mode, env in envs.items()}
    in_turn: dict[str, list[Run]] = {mode: [] for mode in envs}
    together: dict[str, list[Run]] = {mode: [] for mode in envs}
    seconds, connections = options.seconds, options.connections
    try:
        urls = {mode: f"http://127.0.0.1:{port}/v1/events" for mode, (_, port) in servers.items()}
        for url in urls.values():  # warm-up
            load(url, 1, connections)
        modes = list(envs)
        for cycle in range(options.rounds):
            shift = cycle % len(modes)
            for mode in modes[shift:] + modes[:shift]:
                in_turn[mode].append(run_load(servers[mode][0], urls[mode], seconds, connections))
        with ThreadPoolExecutor(len(modes)) as pool:
            for _ in range(options.rounds):
                runs = pool.map(
                    lambda mode: run_load(servers[mode][0], urls[mode], seconds, connections // 2),
                    modes,
                )
                for mode, run in zip(modes, runs, strict=True):
                    together[mode].append(run)
    finally:
        for process, _ in servers.values():
            process.terminate()  # the server flushes its last batch on exit
            process.wait()
    return in_turn, together


def report(title: str, results: dict[str, list[Run]]) -> None:
    print(title)
    for mode, runs in results.items():
        rps = statistics.median(r[0] for r in runs)
        p99 = statistics.median(r[1] for r in runs)
        cpu = statistics.median(r[2] for r in runs)
        each = " ".join(f"{r[0]:.0f}" for r in runs)
        print(
            f"  {mode:10s}  median {rps:7.0f} req/s (cycles: {each})  p99 {p99:6.2f} ms  "
            f"server CPU {cpu:5.0f} us/request"
        )
    # Ratios within a cycle: the host's speed moves by a third over minutes, for every server.
    off = results["off"]
    for mode in ("in-process", "otlp"):
        slower = [1 - r[0] / o[0] for r, o in zip(results[mode], off, strict=True)]
        cpu = [r[2] / o[2] - 1 for r, o in zip(results[mode], off, strict=True)]
        print(
            f"  {mode} vs off: throughput {statistics.median(slower):+.1%} slower (cycles "
            f"{min(slower):+.1%} to {max(slower):+.1%}), CPU per request "
            f"{statistics.median(cpu):+.1%} ({min(cpu):+.1%} to {max(cpu):+.1%}; "
            "target <= 10%)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.receiver:
        receiver_main(options.receiver)
        return
    receiver, receiver_url = start_receiver()
    try:
        with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as redis_server:
            in_turn, together = measure(redis_server.url, receiver_url, options)
        exported = received(receiver_url)
    finally:
        receiver.terminate()
        receiver.wait()
    generator = "wrk" if shutil.which("wrk") else "python"
    load_average = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"load: {generator}, {options.seconds:g} s a run, {options.rounds} cycles; "
        f"load average {load_average}"
    )
    report(f"in turn ({options.connections} connections, one server at a time):", in_turn)
    report(f"together ({options.connections // 2} connections each, all at once):", together)
    print(f"OTLP: {exported['exports']} exports, {exported['bytes']} bytes (the otlp server's)")
    hooks = off_hooks_us()
    per_request_us = 1e6 / statistics.median(r[0] for r in in_turn["off"])
    print(
        f"off: the tracing hooks take {hooks:.2f} us of a request's {per_request_us:.0f} us "
        f"({hooks / per_request_us:.2%}; target: not measurable)"
    )


if __name__ == "__main__":
    main()
