"""Accept path throughput and latency, side by side in one run.

Three servers, each in its own process, receive the same POST under the same load:
  bare     an aiohttp handler that parses the JSON and answers 202 (the ceiling)
  enqueue  the same plus arq's `enqueue_job` (what a naive bridge would do)
  expbridge `expbridge serve`'s POST /v1/events: auth, validation, idempotency key, atomic
           durable accept, one log line, metrics
Load comes from `wrk` (32 connections, unique Idempotency-Key per request) when it is on
PATH (Debian package `wrk`), else from a Python aiohttp load generator. The servers take
turns in several rounds (the order alternating), so a neighbour's load on a shared machine
hits all of them alike; the ratios per round are the result, the load average is printed.

    .venv/bin/python -m bench.accept_throughput [--seconds 5] [--connections 32] [--rounds 3]
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
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from bench.load import LoadResult, python_load, wrk_load
from expbridge.cli.redis_server import RedisServer, free_port

TOKEN = "bench-token"
EVENT = {
    "type": "experiment.start",
    "data": {"target": {"provider": "qonversion", "experiment_id": "exp_bench"}},
}
KINDS = ("bare", "enqueue", "expbridge")


def start_server(
    kind: str,
    redis_url: str,
    env: dict[str, str] | None = None,
    *,
    under: Sequence[str] = (),
    startup_s: float = 15,
) -> tuple[subprocess.Popen[bytes], int]:
    """A bench server (bench/servers.py) ready on its port; `under` runs it under another
    program (valgrind, for bench/accept_instructions.py)."""
    port = free_port()
    args = [*under, sys.executable, "-m", "bench.servers", kind, str(port), redis_url, TOKEN]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + startup_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(
        f"{kind} server did not start: {process.stderr.read() if process.stderr else ''}"
    )


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_one(
    kind: str, redis_url: str, seconds: float, connections: int
) -> tuple[LoadResult, float]:
    """The load's result and the server's CPU µs per request (steadier than req/s when the
    machine is shared)."""
    process, port = start_server(kind, redis_url)
    url = f"http://127.0.0.1:{port}/v1/events"
    body = json.dumps(EVENT)
    try:
        load = wrk_load if shutil.which("wrk") else python_load
        cpu_before = cpu_seconds(process.pid)
        result = load(url, body, TOKEN, seconds, connections)
        cpu_us = (cpu_seconds(process.pid) - cpu_before) * 1e6 / max(1, result.rps * seconds)
        return result, cpu_us
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    generator = "wrk" if shutil.which("wrk") else "python"
    print(
        f"accept: load {generator}, {options.connections} connections, "
        f"{options.seconds:g} s per server, {options.rounds} rounds; cpus {os.cpu_count()}"
    )
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    p99s: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as redis_server:
        for n in range(options.rounds):
            order = KINDS if n % 2 == 0 else tuple(reversed(KINDS))
            results: dict[str, LoadResult] = {}
            cpu: dict[str, float] = {}
            for kind in order:
                results[kind], cpu[kind] = run_one(
                    kind, redis_server.url, options.seconds, options.connections
                )
            print(f"round {n + 1} (order {', '.join(order)}; load average {load_average()})")
            for kind in KINDS:
                r = results[kind]
                print(
                    f"  {kind:10s} {r.rps:8.0f} req/s   p50 {r.p50_ms:6.2f} ms   "
                    f"p99 {r.p99_ms:6.2f} ms   CPU {cpu[kind]:5.0f} µs/req   non-2xx {r.errors}"
                )
            ours = results["expbridge"]
            ratios.append(ours.rps / results["bare"].rps)
            cpu_ratios.append(cpu["bare"] / cpu["expbridge"])
            p99s.append(ours.p99_ms)
            print(
                f"  expbridge / bare {ratios[-1]:.2f}x   "
                f"expbridge / enqueue {ours.rps / results['enqueue'].rps:.2f}x"
            )
    print(
        f"accept summary: expbridge / bare median {statistics.median(ratios):.2f}x "
        f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.5x), "
        f"p99 median {statistics.median(p99s):.1f} ms (target <= 10 ms); "
        f"CPU per request, bare / expbridge, median {statistics.median(cpu_ratios):.2f}x"
    )


if __name__ == "__main__":
    main()
