"""Load generators for the accept benchmark: wrk when installed, else an aiohttp client."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass

import aiohttp

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = [[__BODY__]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer __TOKEN__"
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local counter = 0
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = "__RUN__-" .. tid .. "-" .. counter
  return wrk.format()
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status))
end
"""


@dataclass(frozen=True)
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def wrk_load(url: str, body: str, token: str, seconds: float, connections: int) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        # Keys of this run only: the servers of one bench share a Redis, and a key another run
        # sent would be answered as its replay, a different (and differently traced) path.
        script.write(
            WRK_SCRIPT.replace("__BODY__", body)
            .replace("__TOKEN__", token)
            .replace("__RUN__", uuid.uuid4().hex)
        )
        script.flush()
        out = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, duration_us, p50_us, p99_us, errors = (int(v) for v in line.split()[1:])
    return LoadResult(requests / (duration_us / 1e6), p50_us / 1000, p99_us / 1000, errors)


def python_load(url: str, body: str, token: str, seconds: float, connections: int) -> LoadResult:
    return asyncio.run(_python_load(url, body, token, seconds, connections))


async def _python_load(
    url: str, body: str, token: str, seconds: float, connections: int
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    run = uuid.uuid4().hex  # keys of this run only (wrk_load says why)
    deadline = time.monotonic() + seconds

    async def client(n: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        counter = 0
        while time.monotonic() < deadline:
            counter += 1
            headers = {
                "Idempotency-Key": f"{run}-{n}-{counter}",
                "Authorization": f"Bearer {token}",
            }
            started = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                errors += response.status >= 300
            latencies.append((time.perf_counter() - started) * 1000)

    connector = aiohttp.TCPConnector(limit=connections)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        await asyncio.gather(*(client(n, session) for n in range(connections)))
    ordered = sorted(latencies)
    return LoadResult(
        len(ordered) / seconds,
        statistics.median(ordered),
        ordered[int(len(ordered) * 0.99)],
        errors,
    )
