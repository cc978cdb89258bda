"""Worker throughput, side by side with a hand-written arq worker, in one run.

Both run as their own process against one private redis-server and the same minimal upstream
(bench/upstream.py, its own process):
  plain      bench/plain_worker.py: an arq job making the one upstream POST of an event
  expbridge  `expbridge worker`: the same event carried out with every guarantee (record and
             step ledger, attempt saved before the call, pacing and breaker shared through
             Redis, ordering, FINISH)
Each round fills the queue with N events first (expbridge: through the ACCEPT script, one
target each; plain: arq's enqueue_job), then starts the worker and times the drain from the
first finished event to the last. Per event it reports the worker's CPU, Redis's CPU (INFO
cpu) and the commands Redis ran (INFO commandstats), as deltas over that window. Then one
line: N events for ONE target (one ordered line) through expbridge alone, events/s.
The order alternates per round; the load average is printed (a shared machine: read ratios).

    .venv/bin/python -m bench.worker_throughput [--events 2000] [--line-events 400] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from arq.connections import ArqRedis, RedisSettings, create_pool

from bench.accept_throughput import cpu_seconds, load_average
from expbridge.cli.redis_server import RedisServer, free_port
from expbridge.config.loading import load_settings
from expbridge.events import keys
from expbridge.events.record import EventRecord
from expbridge.events.store.acceptor import Acceptor, new_event_id
from expbridge.events.store.connection import create_redis

OURS_QUEUE = "bench:expbridge"
PLAIN_QUEUE = "bench:plain"
LINE = "qonversion:exp_line"


async def queued_ours(redis: ArqRedis) -> int:
    return int(await redis.zcard(OURS_QUEUE))  # one target per event: each one has its job


async def queued_plain(redis: ArqRedis) -> int:
    return int(await redis.zcard(PLAIN_QUEUE))


async def queued_in_line(redis: ArqRedis) -> int:
    return int(await redis.llen(keys.order(LINE)))  # only the line's head has a job


@dataclass(frozen=True)
class Drain:
    events: int
    seconds: float
    worker_cpu_us: float
    redis_cpu_us: float
    redis_commands: float
    round_trips: float
    rss_mb: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def wait_http(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited ({process.returncode})")
        try:
            urllib.request.urlopen(url, timeout=0.5)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def served(upstream: str) -> int:
    with urllib.request.urlopen(upstream.removesuffix("/v4") + "/served", timeout=5) as answer:
        return int(answer.read())


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def redis_counters(redis: ArqRedis) -> tuple[float, int, int]:
    """Redis's CPU seconds so far (user + system), the commands it has run, and the reads it
    has processed (one per client round trip, pipelines and scripts counting once)."""
    cpu = await redis.info("cpu")
    stats = await redis.info("commandstats")
    calls = sum(int(v["calls"]) for v in stats.values() if isinstance(v, dict))
    reads = int((await redis.info("stats"))["total_reads_processed"])
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]), calls, reads


def expbridge_env(redis_url: str, upstream: str) -> dict[str, str]:
    return {
        **os.environ,
        "EXPBRIDGE_REDIS_URL": redis_url,
        "EXPBRIDGE_QUEUE_NAME": OURS_QUEUE,
        "EXPBRIDGE_QONVERSION__SECRET_KEY": "test_sk_bench",
        "EXPBRIDGE_QONVERSION__BASE_URL": upstream,
        # Pacing stays on (every step takes and returns a slot); the limits are above the load.
        "EXPBRIDGE_PACE__QONVERSION__REQUESTS_PER_SECOND": "1000000",
        "EXPBRIDGE_PACE__QONVERSION__MAX_CONCURRENCY": "1000",
        "EXPBRIDGE_WORKER__METRICS_PORT": "0",
        "EXPBRIDGE_LOG_FORMAT": "json",
    }


async def fill_expbridge(redis_url: str, upstream: str, events: int, one_line: bool) -> None:
    settings = load_settings(redis_url=redis_url, queue_name=OURS_QUEUE)
    redis = await create_redis(settings)
    acceptor = Acceptor(redis, settings)

    async def accept(n: int) -> None:
        experiment = LINE.partition(":")[2] if one_line else f"exp_{n}"
        target = {"provider": "qonversion", "experiment_id": experiment}
        record = EventRecord(
            id=new_event_id(),
            type="experiment.start",
            source="bench",
            target=f"qonversion:{experiment}",
            data={"target": target},
        )
        await acceptor.accept(record, None, "-")

    for start in range(0, events, 500):
        await asyncio.gather(*(accept(n) for n in range(start, min(events, start + 500))))
    await acceptor.close()
    await redis.aclose()


async def fill_plain(redis_url: str, events: int) -> None:
    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=PLAIN_QUEUE)
    for start in range(0, events, 500):
        await asyncio.gather(
            *(
                pool.enqueue_job("post_status", f"exp_{n}")
                for n in range(start, min(events, start + 500))
            )
        )
    await pool.aclose()


async def drain(
    redis_url: str,
    command: list[str],
    env: dict[str, str],
    remaining: Callable[[ArqRedis], Awaitable[int]],
    events: int,
    fill: Callable[[], Awaitable[None]],
    upstream: str,
) -> Drain:
    redis = await create_pool(RedisSettings.from_dsn(redis_url))
    await redis.flushall()
    await fill()
    calls_before = served(upstream)
    # Logs go to a file (a pipe nobody reads would fill and stop the worker mid-run).
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        while await remaining(redis) >= events:  # until the first event is finished
            if process.poll() is not None:
                errors.seek(0)
                raise RuntimeError(errors.read().decode()[-2000:])
            await asyncio.sleep(0.002)
        started, left = time.perf_counter(), await remaining(redis)
        cpu_before, (redis_cpu, redis_calls, redis_reads) = (
            cpu_seconds(process.pid),
            await redis_counters(redis),
        )
        while await remaining(redis) > 0:
            await asyncio.sleep(0.005)
        seconds = time.perf_counter() - started
        cpu_after, (redis_cpu_after, redis_calls_after, redis_reads_after) = (
            cpu_seconds(process.pid),
            await redis_counters(redis),
        )
        rss = rss_mb(process.pid)
        calls = served(upstream) - calls_before
        if calls < events:
            raise RuntimeError(f"{command[2]}: {calls} upstream calls for {events} events")
    finally:
        process.terminate()
        process.wait()
        errors.close()
        await redis.aclose()
    # The bench's own polling (ZCARD, INFO) is a few hundred commands in all: left in.
    return Drain(
        events=left,
        seconds=seconds,
        worker_cpu_us=(cpu_after - cpu_before) * 1e6 / left,
        redis_cpu_us=(redis_cpu_after - redis_cpu) * 1e6 / left,
        redis_commands=(redis_calls_after - redis_calls) / left,
        round_trips=(redis_reads_after - redis_reads) / left,
        rss_mb=rss,
    )


def show(label: str, d: Drain) -> None:
    print(
        f"  {label:10s} {d.rate:7.0f} events/s   worker CPU {d.worker_cpu_us:6.0f} µs/event   "
        f"Redis CPU {d.redis_cpu_us:5.0f} µs/event   {d.redis_commands:5.1f} commands/event   "
        f"{d.round_trips:5.1f} round trips/event   RSS {d.rss_mb:5.1f} MB"
    )


async def main(events: int, line_events: int, rounds: int) -> None:
    print(f"worker: {events} events per run, {rounds} rounds; cpus {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as redis_server:
        port = free_port()
        upstream_process = subprocess.Popen([sys.executable, "-m", "bench.upstream", str(port)])
        upstream = f"http://127.0.0.1:{port}/v4"
        url = redis_server.url
        ours_cmd = [sys.executable, "-m", "expbridge.cli.main", "worker"]
        plain_cmd = [sys.executable, "-m", "bench.plain_worker", url, PLAIN_QUEUE, upstream]
        env = expbridge_env(url, upstream)
        ratios, redis_us, lines = [], [], []
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", upstream_process)
            for n in range(rounds):
                runs = {
                    "expbridge": lambda: drain(
                        url,
                        ours_cmd,
                        env,
                        queued_ours,
                        events,
                        lambda: fill_expbridge(url, upstream, events, one_line=False),
                        upstream,
                    ),
                    "plain": lambda: drain(
                        url,
                        plain_cmd,
                        dict(os.environ),
                        queued_plain,
                        events,
                        lambda: fill_plain(url, events),
                        upstream,
                    ),
                }
                order = list(runs) if n % 2 == 0 else list(reversed(runs))
                results = {kind: await runs[kind]() for kind in order}
                line = await drain(
                    url,
                    ours_cmd,
                    env,
                    queued_in_line,
                    line_events,
                    lambda: fill_expbridge(url, upstream, line_events, one_line=True),
                    upstream,
                )
                print(f"round {n + 1} (order {', '.join(order)}; load average {load_average()})")
                show("plain", results["plain"])
                show("expbridge", results["expbridge"])
                ratios.append(results["expbridge"].rate / results["plain"].rate)
                redis_us.append(results["expbridge"].redis_cpu_us)
                lines.append(line.rate)
                print(
                    f"  expbridge / plain {ratios[-1]:.2f}x   one line ({line_events} events, "
                    f"one target): {line.rate:.0f} events/s"
                )
        finally:
            upstream_process.terminate()
            upstream_process.wait()
    print(
        f"worker summary: expbridge / plain median {statistics.median(ratios):.2f}x "
        f"(rounds {', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.8x); Redis CPU "
        f"median {statistics.median(redis_us):.0f} µs/event (target <= 200); one line median "
        f"{statistics.median(lines):.0f} events/s (target >= 200)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--line-events", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(main(options.events, options.line_events, options.rounds))
