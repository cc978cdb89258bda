"""Memory over many events: Redis bytes per finished event, and the RSS of the ingress and
the worker after 100,000 events (no growth beyond caches is the aim).

Starts a private redis-server, the minimal upstream (bench/upstream.py), `expbridge serve` and
`expbridge worker` as their own processes, then posts events through HTTP (each with its own
Idempotency-Key, spread over 1,000 targets) in two phases: a warm-up, then the rest. After
each phase it waits until every event is finished and prints both processes' RSS and Redis's
memory; the Redis bytes per finished event come from the keys themselves (MEMORY USAGE of a
sample: record, dispatch counter, idempotency entry, and the index's share).

    .venv/bin/python -m bench.memory_footprint [--events 100000] [--warm-up 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from arq.connections import ArqRedis, RedisSettings, create_pool

from bench.accept_throughput import load_average
from bench.worker_throughput import expbridge_env, rss_mb, wait_http
from expbridge.cli.redis_server import RedisServer, free_port
from expbridge.events import keys

TOKEN = "bench-token"
TARGETS = 1000


async def post_events(url: str, first: int, count: int, connections: int = 32) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    numbers = iter(range(first, first + count))

    async def client(session: aiohttp.ClientSession) -> None:
        for n in numbers:
            event = {
                "type": "experiment.start",
                "data": {
                    "target": {"provider": "qonversion", "experiment_id": f"exp_{n % TARGETS}"}
                },
            }
            async with session.post(
                url, json=event, headers={**headers, "Idempotency-Key": f"k{n}"}
            ) as answer:
                if answer.status != 202:
                    raise RuntimeError(f"{answer.status}: {await answer.text()}")

    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(connections)))


async def wait_finished(redis: ArqRedis, queue: str) -> None:
    """Until no line has an event left (every order list gone) and the queue is empty."""
    while True:
        lines = [k async for k in redis.scan_iter(match=keys.order("*"), count=1000)]
        if not lines and await redis.zcard(queue) == 0:
            return
        await asyncio.sleep(0.2)


async def bytes_per_event(redis: ArqRedis, sample: int = 200) -> dict[str, float]:
    ids = [m.decode() for m in await redis.zrange(keys.EVENT_INDEX, 0, -1)]
    chosen = random.sample(ids, min(sample, len(ids)))

    async def usage(key: str) -> int:
        return int(await redis.memory_usage(key, samples=0) or 0)

    records = [await usage(keys.event(i)) for i in chosen]
    counters = [await usage(keys.dispatch_counter(i)) for i in chosen]
    idem = [await usage(keys.idempotency("bench", f"k{n}")) for n in range(len(chosen))]
    index = await usage(keys.EVENT_INDEX) / max(1, len(ids))
    out = {
        "record": sum(records) / len(records),
        "dispatch counter": sum(counters) / len(counters),
        "index entry": index,
        "idempotency entry (24 h)": sum(idem) / len(idem),
    }
    raw = await redis.get(keys.event(chosen[0]))
    out["record JSON"] = len(raw or b"")
    return out


async def phase(
    label: str,
    url: str,
    redis: ArqRedis,
    queue: str,
    first: int,
    count: int,
    pids: dict[str, int],
) -> None:
    started = time.perf_counter()
    await post_events(url, first, count)
    await wait_finished(redis, queue)
    seconds = time.perf_counter() - started
    memory = await redis.info("memory")
    rss = "   ".join(f"{name} RSS {rss_mb(pid):6.1f} MB" for name, pid in pids.items())
    print(
        f"after {first + count:7d} events ({label}, {seconds:5.1f} s): {rss}   "
        f"Redis used_memory {int(memory['used_memory']) / 2**20:6.1f} MB   "
        f"(load average {load_average()})"
    )


async def main(events: int, warm_up: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as redis_server:
        upstream_port, ingress_port = free_port(), free_port()
        upstream = f"http://127.0.0.1:{upstream_port}/v4"
        env: dict[str, Any] = {
            **expbridge_env(redis_server.url, upstream),
            "EXPBRIDGE_SOURCES": f'{{"bench": {{"token": "{TOKEN}"}}}}',
            "EXPBRIDGE_PORT": str(ingress_port),
        }
        processes = {
            "upstream": [sys.executable, "-m", "bench.upstream", str(upstream_port)],
            "ingress": [sys.executable, "-m", "expbridge.cli.main", "serve"],
            "worker": [sys.executable, "-m", "expbridge.cli.main", "worker"],
        }
        running = {
            name: subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            for name, command in processes.items()
        }
        redis = await create_pool(RedisSettings.from_dsn(redis_server.url))
        try:
            wait_http(f"http://127.0.0.1:{upstream_port}/healthz", running["upstream"])
            wait_http(f"http://127.0.0.1:{ingress_port}/healthz", running["ingress"])
            url = f"http://127.0.0.1:{ingress_port}/v1/events"
            pids = {name: running[name].pid for name in ("ingress", "worker")}
            queue = env["EXPBRIDGE_QUEUE_NAME"]
            print(f"memory: {events} events over {TARGETS} targets; cpus {os.cpu_count()}")
            await phase("warm-up", url, redis, queue, 0, warm_up, pids)
            await phase("the rest", url, redis, queue, warm_up, events - warm_up, pids)
            sizes = await bytes_per_event(redis)
            total = sum(v for k, v in sizes.items() if k != "record JSON")
            kept = total - sizes["idempotency entry (24 h)"]
            parts = ", ".join(f"{k} {v:.0f}" for k, v in sizes.items())
            print(f"Redis bytes per finished event: {parts}")
            print(
                f"memory summary: {kept:.0f} bytes per finished event kept for the retention "
                f"(target <= 1024), {total:.0f} while its idempotency entry lives (24 h)"
            )
        finally:
            await redis.aclose()
            for process in running.values():
                process.terminate()
                process.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--warm-up", type=int, default=10_000)
    options = parser.parse_args()
    asyncio.run(main(options.events, options.warm_up))
