"""The console's pages with many events stored: render time per page, side by side with the
JSON API's first page of events (GET /v1/events?limit=50) as the baseline.

Starts a private redis-server, stores `--events` status records (a mix of statuses, steps,
errors and results, as the workers leave them), starts the real ingress, signs in to the
console and times each page `--rounds` times. Prints median and p95 per page and the ratio of
the median to the baseline's. The target is every page under 300 ms with 10,000 events.

The counts by status and the providers' error shares are kept per ingress process for a few
seconds (service/console/summaries.py): the pages are timed as operators see them, and the two
computations are timed on their own as well — what the first page after start-up, or after a
quiet minute, waits for. `--busy N` keeps N other processes spinning on the CPU meanwhile (a
loaded machine, reproducibly).

    .venv/bin/python -m bench.console_pages [--events 10000] [--rounds 20] [--busy 0]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from expbridge.cli.redis_server import RedisServer
from expbridge.config.file import FileConfig
from expbridge.config.loading import load_settings
from expbridge.config.logging import configure_logging
from expbridge.events import keys
from expbridge.events.record import ErrorInfo, EventRecord, StepRecord, utcnow
from expbridge.events.rules.evaluation_log import RuleEvaluation, RuleLog
from expbridge.events.store.listing import status_counts
from expbridge.service.app import create_app
from expbridge.service.console.operations import PROVIDERS, error_shares

ADMIN = "bench-admin-token"
STATUSES = ["succeeded"] * 90 + ["dead"] * 6 + ["retrying"] * 2 + ["queued"] * 2
TYPES = ["experiment.start", "experiment.pause", "experiment.update", "variation.add"]
RULES = FileConfig.model_validate(
    {
        "rules": [
            {
                "name": f"stop-{n}",
                "trigger": {"schedule": "1h"},
                "targets": [f"qonversion:exp_{n}"],
                "when": {"min_runtime_days": 7, "chance_to_win_at_least": 0.95},
                "actions": [{"event": "experiment.stop"}],
                "dry_run": n % 2 == 0,
            }
            for n in range(10)
        ]
    }
)


def record(n: int) -> EventRecord:
    status = STATUSES[n % len(STATUSES)]
    received = utcnow() - timedelta(seconds=10_000 - n)
    event_id = f"evt_{n:032x}"
    step = StepRecord(
        name="qonversion.set_status",
        idempotency_key=f"{event_id}.1.qonversion.set_status",
        status="done" if status == "succeeded" else "failed" if status == "dead" else "pending",
        upstream_status=200 if status == "succeeded" else 404 if status == "dead" else None,
        attempts=1,
        finished_at=received + timedelta(milliseconds=40),
        result={"id": f"exp_{n % 500}", "status": "active"} if status == "succeeded" else None,
    )
    error = None
    if status == "dead":
        error = ErrorInfo(
            kind="permanent",
            message=f"Experiment 'exp_{n}' not found",
            upstream_status=404,
            provider="qonversion",
            code="not_found",
        )
    return EventRecord(
        id=event_id,
        type=TYPES[n % len(TYPES)],
        source="growth",
        target=f"qonversion:exp_{n % 500}",
        status=status,
        received_at=received,
        updated_at=received + timedelta(milliseconds=50),
        attempts=1,
        steps=[step],
        last_error=error,
        result=step.result,
        data={"target": {"provider": "qonversion", "experiment_id": f"exp_{n % 500}"}},
    )


async def store(redis: Redis, events: int) -> str:
    async with redis.pipeline(transaction=False) as pipe:
        for n in range(events):
            r = record(n)
            score = int(r.received_at.timestamp() * 1000)
            pipe.set(keys.event(r.id), r.model_dump_json())
            pipe.zadd(keys.EVENT_INDEX, {r.id: score})
            if r.status == "dead":
                pipe.zadd(keys.DEAD_INDEX, {r.id: score})
        await pipe.execute()
    log = RuleLog(redis, 1000)
    for n in range(300):
        await log.add(
            RuleEvaluation(
                rule=f"stop-{n % 10}",
                target=f"qonversion:exp_{n % 10}",
                trigger="schedule",
                outcome="not_met",
                reasons=["ran 3.00 days (min_runtime_days 7)"],
            )
        )
    return record(events - 1).id


async def timed(session: aiohttp.ClientSession, url: str, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
            assert response.status == 200, (url, response.status)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def timed_call(call: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def spin(processes: int) -> list[subprocess.Popen[bytes]]:
    """Other processes keeping the CPU busy, as other work on a shared machine does."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]


async def main(events: int, rounds: int, busy: int) -> None:
    spinning = spin(busy)
    try:
        await measure(events, rounds, busy)
    finally:
        for process in spinning:
            process.kill()
            process.wait()


async def measure(events: int, rounds: int, busy: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as server:
        settings = load_settings(
            redis_url=server.url,
            admin_token=ADMIN,
            queue_name="bench:queue",
            log_level="ERROR",
            log_format="json",
            data_dir=Path(tmp) / "data",
        )
        configure_logging("json", "ERROR")
        redis = Redis.from_url(server.url)
        newest = await store(redis, events)
        await redis.aclose()
        runner = web.AppRunner(create_app(settings, RULES), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            async with session.get(f"{base}/ui/signin") as r:
                form_token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
            assert form_token
            sign_in = {"csrf": form_token.group(1), "token": ADMIN}
            async with session.post(f"{base}/ui/signin", data=sign_in) as r:
                page = await r.text()
            cursor = re.findall(r'cursor=([0-9]+%3A[^"&]+)', page)
            assert cursor, "no paging link"
            pages = {
                "JSON GET /v1/events?limit=50 (baseline)": "/v1/events?limit=50",
                "/ui/events": "/ui/events",
                "/ui/events page 2": f"/ui/events?cursor={cursor[0]}",
                "/ui/events?status=dead": "/ui/events?status=dead",
                "/ui/events?type=&target= (few match)": (
                    "/ui/events?type=variation.add&target=qonversion:exp_3"
                ),
                "/ui/events/{id}": f"/ui/events/{newest}",
                "/ui/dead-letters": "/ui/dead-letters",
                "/ui/rules": "/ui/rules",
                "/ui/providers": "/ui/providers",
            }
            results = {}
            for name, path in pages.items():
                headers = {"Authorization": f"Bearer {ADMIN}"} if path.startswith("/v1") else {}
                session.headers.clear()
                session.headers.update(headers)
                await timed(session, base + path, 2)  # warm up
                results[name] = await timed(session, base + path, rounds)
        computed = Redis.from_url(server.url)
        results["counts by status, computed (not kept)"] = await timed_call(
            lambda: status_counts(computed), rounds
        )
        results["error shares, computed (not kept)"] = await timed_call(
            lambda: error_shares(computed, PROVIDERS), rounds
        )
        await computed.aclose()
        await runner.cleanup()
    baseline = statistics.median(next(iter(results.values())))
    print(f"{events} events stored, {rounds} rounds per page, {busy} other processes busy")
    print(f"{'page':48} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
    for name, samples in results.items():
        median = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[-1]
        print(f"{name:48} {median:10.1f} {p95:8.1f} {median / baseline:11.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--busy", type=int, default=0, help="other processes spinning meanwhile")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.rounds, arguments.busy))
