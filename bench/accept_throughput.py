"""Accept path throughput and latency, side by side in one run.

Three servers, each in its own process, receive the same POST under the same load:
  bare     an aiohttp handler that parses the JSON and answers 202 (the ceiling)
  enqueue  the same plus arq's `enqueue_job` (what a naive bridge would do)
  expbridge POST /v1/events: auth, validation, idempotency key, atomic durable accept
Load comes from `wrk` (32 connections, unique Idempotency-Key per request) when it is on
PATH (Debian package `wrk`), else from a Python aiohttp load generator.

    .venv/bin/python bench/accept_throughput.py [--seconds 5] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.load import python_load, wrk_load
from expbridge.cli.redis_server import RedisServer, free_port

TOKEN = "bench-token"
EVENT = {
    "type": "experiment.start",
    "data": {"target": {"provider": "qonversion", "experiment_id": "exp_bench"}},
}


def start_server(kind: str, redis_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    args = [sys.executable, "-m", "bench.servers", kind, str(port), redis_url, TOKEN]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    import urllib.request

    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(
        f"{kind} server did not start: {process.stderr.read() if process.stderr else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    options = parser.parse_args()
    body = json.dumps(EVENT)
    results = {}
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as redis_server:
        for kind in ("bare", "enqueue", "expbridge"):
            process, port = start_server(kind, redis_server.url)
            url = f"http://127.0.0.1:{port}/v1/events"
            try:
                if shutil.which("wrk"):
                    results[kind] = wrk_load(url, body, TOKEN, options.seconds, options.connections)
                else:
                    results[kind] = python_load(
                        url, body, TOKEN, options.seconds, options.connections
                    )
            finally:
                process.terminate()
                process.wait()
    generator = "wrk" if shutil.which("wrk") else "python"
    print(f"load: {generator}, {options.connections} connections, {options.seconds:g} s each")
    for kind, result in results.items():
        print(
            f"{kind:10s} {result.rps:9.0f} req/s   p50 {result.p50_ms:6.2f} ms   "
            f"p99 {result.p99_ms:6.2f} ms   non-2xx {result.errors}"
        )
    ours = results["expbridge"]
    print(f"expbridge / bare:    {ours.rps / results['bare'].rps:5.0%}  (target >= 50%)")
    print(f"expbridge / enqueue: {ours.rps / results['enqueue'].rps:5.2f}x (target >= 3x)")
    print(f"expbridge p99:       {ours.p99_ms:.2f} ms (target < 25 ms)")


if __name__ == "__main__":
    main()
