"""The accept path in CPU instructions per request: a steadier ratio on a shared machine.

On a shared 2-core virtual machine the time benchmarks (bench/accept_throughput.py,
bench/tracing_overhead.py) move by a third between rounds minutes apart, with the neighbours'
load. Instructions move far less: each server runs under valgrind's callgrind, which counts the
instructions its process (every thread) executes, whatever else the machine does. The same
POST as the throughput bench is sent by an aiohttp client in its own process (32 at a time,
a unique Idempotency-Key each); the count is zeroed after a warm-up and read after N
requests. The count still follows the timing a little (how many requests one loop turn and
one group commit take at once, which the client's speed sets): two runs of the same server
minutes apart gave 712,044 and 717,126 instructions per request, but the bare server gave
325k and 275k an hour apart, on a busier and a quieter machine. So compare the servers of
one run, as with the time benchmarks.

What instructions leave out, so the time benchmarks stay the measure of record: the kernel's
work (system calls: the socket writes and reads, the log line's write), and memory stalls,
which make a garbage collection cost more time than its instructions say. Needs `valgrind`
(Debian package valgrind); takes about 2 minutes per server.

    .venv/bin/python -m bench.accept_instructions [--requests 1024] [--kinds bare,expbridge,...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.accept_throughput import EVENT, TOKEN, start_server
from bench.tracing_overhead import IN_PROCESS_TRACING, start_receiver
from expbridge.cli.redis_server import RedisServer

KINDS = ("bare", "expbridge", "expbridge-traced", "expbridge-otlp")
# Whole batches of the batch processor's (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512 by default): a
# traced server exports each batch as it fills, so with whole batches before the count is
# zeroed and in it, the count holds exactly the exports of the spans it made (and a settling
# pause lets the last one finish). Otherwise it would hold one batch more or less, by chance:
# ±25 % of the exporter's cost a request.
SPANS_A_BATCH = 512
WARM_UP = SPANS_A_BATCH
SETTLE_S = 2.0


async def post_events(url: str, count: int, connections: int, first_key: int) -> None:
    body = json.dumps(EVENT).encode()
    keys = iter(range(first_key, first_key + count))
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:

        async def one_connection() -> None:
            for key in keys:
                sent = {**headers, "Idempotency-Key": f"k{key}"}
                async with session.post(url, data=body, headers=sent) as response:
                    await response.read()
                    if response.status != 202:
                        raise RuntimeError(f"the server answered {response.status}")

        await asyncio.gather(*(one_connection() for _ in range(connections)))


def _total_instructions(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


def instructions_per_request(
    kind: str, redis_url: str, requests: int, env: dict[str, str], tmp: Path
) -> float:
    server = "bare" if kind == "bare" else "expbridge"
    out = tmp / f"{kind}.callgrind"
    valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    # Start-up under valgrind is ~50 times slower.
    process, port = start_server(server, redis_url, env, under=valgrind, startup_s=300)
    try:
        url = f"http://127.0.0.1:{port}/v1/events"
        # Keys of this server only: the servers share one Redis, and a key an earlier server
        # was sent would be answered as its replay (a different path, traced differently).
        first_key = KINDS.index(kind) * 10**7
        asyncio.run(post_events(url, WARM_UP, 32, first_key))
        time.sleep(SETTLE_S)
        subprocess.run(
            ["callgrind_control", "--zero", str(process.pid)], check=True, capture_output=True
        )
        asyncio.run(post_events(url, requests, 32, first_key + 10**6))
        time.sleep(SETTLE_S)
        subprocess.run(
            ["callgrind_control", "--dump", str(process.pid)], check=True, capture_output=True
        )
        dumps = sorted(tmp.glob(f"{out.name}.*"))
        if not dumps:
            raise RuntimeError("callgrind wrote no dump")
        return _total_instructions(dumps[-1]) / requests
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2 * SPANS_A_BATCH)
    parser.add_argument("--kinds", default=",".join(KINDS))
    options = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("accept instructions: not measured (no valgrind: apt-get install valgrind)")
        return
    kinds = options.kinds.split(",")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    base_env["PYTHONHASHSEED"] = "0"
    counts: dict[str, float] = {}
    receiver = None
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as redis_server:
        try:
            for kind in kinds:
                env = dict(base_env)
                if kind == "expbridge-traced":
                    env[IN_PROCESS_TRACING] = "1"
                elif kind == "expbridge-otlp":
                    if receiver is None:
                        receiver, receiver_url = start_receiver()
                    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver_url
                    env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
                counts[kind] = instructions_per_request(
                    kind, redis_server.url, options.requests, env, Path(tmp)
                )
                print(f"  {kind:18s} {counts[kind]:10,.0f} instructions per request", flush=True)
        finally:
            if receiver is not None:
                receiver.terminate()
    if "bare" in counts and "expbridge" in counts:
        ratio = counts["bare"] / counts["expbridge"]
        print(f"accept instructions: bare / expbridge {ratio:.2f}x (throughput target >= 0.5x)")
    for traced in ("expbridge-traced", "expbridge-otlp"):
        if traced in counts and "expbridge" in counts:
            extra = counts[traced] / counts["expbridge"] - 1
            print(f"tracing instructions: {traced} vs expbridge {extra:+.1%} (target <= 10%)")


if __name__ == "__main__":
    main()
