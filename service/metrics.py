"""Ingress metrics: events received by outcome, and the queues' depth read from Redis per scrape.

One `IngressMetrics` per app, with its own registry (no module-level collectors).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Iterator

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.core import CounterMetricFamily, Metric
from redis.asyncio import Redis
from redis.exceptions import RedisError

from expbridge.events import keys

UNKNOWN = "unknown"


class RedisCounts:
    """Counters kept in Redis (keys.COUNTS: the ingress, the workers and the CLI add to them),
    shown as Prometheus counters with the values of the last scrape."""

    def __init__(self) -> None:
        self.cancelled: dict[str, float] = {}

    def read(self, counts: dict[bytes, bytes]) -> None:
        for field, value in counts.items():
            kind, _, label = field.decode().partition(":")
            if kind == "cancelled":
                self.cancelled[label] = float(value)

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "expbridge_events_cancelled",
            "Events cancelled (API, CLI, Slack) by the status they had",
            labels=["from_status"],
        )
        for status, count in sorted(self.cancelled.items()):
            family.add_metric([status], count)
        yield family


Facts = tuple[str | None, str | None, int, bool]  # a request's type, source, status, replay
Labels = tuple[str, str, str, str]


class ReceivedCounts:
    """POST /v1/events by outcome, counted in a plain dict and shown as the Prometheus counter
    `expbridge_events_received` (`_total` and `_created`, as a Counter's) at each scrape: the
    accept path adds one per request, and a Counter child's `inc` is four Python calls and a
    lock. Counted and collected on the event loop's thread."""

    def __init__(self, event_types: Collection[str]) -> None:
        # Label values come from requests, so only known types become labels: bounded series.
        self.event_types = frozenset(event_types)
        self._labels: dict[Facts, Labels] = {}  # (only for known types: a bounded cache)
        self._counts: dict[Labels, int] = {}
        self._created: dict[Labels, float] = {}

    def add(self, event_type: str | None, source: str | None, status: int, replayed: bool) -> None:
        facts = (event_type, source, status, replayed)
        labels = self._labels.get(facts)
        if labels is None:
            outcome = ("replayed" if replayed else "accepted") if status < 400 else "rejected"
            known = event_type if event_type in self.event_types else None
            labels = (known or UNKNOWN, source or UNKNOWN, outcome, f"{status // 100}xx")
            if event_type is None or known is not None:
                self._labels[facts] = labels
        counts = self._counts
        if labels in counts:
            counts[labels] += 1
        else:
            counts[labels] = 1
            self._created[labels] = time.time()

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "expbridge_events_received",
            "POST /v1/events by outcome: accepted, replayed (idempotent) or rejected",
            labels=["type", "source", "outcome", "status_class"],
        )
        for labels, count in list(self._counts.items()):
            family.add_metric(list(labels), count, created=self._created[labels])
        yield family


class IngressMetrics:
    def __init__(self, event_types: Collection[str]) -> None:
        self.registry = CollectorRegistry()
        self.received = ReceivedCounts(event_types)
        self.registry.register(self.received)
        self.queue_depth = Gauge(
            "expbridge_queue_depth",
            "Events waiting in their lines, heads and those behind them (counted by the workers' "
            "sweep; the arq queue's jobs until a first sweep)",
            registry=self.registry,
        )
        self.dead_letter_queue_depth = Gauge(
            "expbridge_dead_letter_queue_depth",
            "Dead events kept for inspection and replay",
            registry=self.registry,
        )
        self.scheduled = Gauge(
            "expbridge_scheduled_events",
            "Scheduled events not yet due (outside their lines until their not_before)",
            registry=self.registry,
        )
        self.counts = RedisCounts()
        self.registry.register(self.counts)
        self.redis_up = Gauge(
            "expbridge_redis_up",
            "1 if Redis answered the last scrape's queue reads, else 0",
            registry=self.registry,
        )

    async def read_queues(self, redis: Redis, queue_name: str) -> None:
        """Refresh the queue gauges (called by the /metrics handler, so values are current)."""
        try:
            async with asyncio.timeout(1.0), redis.pipeline(transaction=False) as pipe:
                pipe.zcard(queue_name)
                pipe.zcard(keys.DEAD_INDEX)
                pipe.zcard(keys.SCHEDULED)
                pipe.hgetall(keys.COUNTS)
                pipe.get(keys.LINES_WAITING)
                queued, dead, scheduled, counts, waiting = await pipe.execute()
        except (RedisError, OSError, TimeoutError):
            self.redis_up.set(0)
            return
        # Events waiting in lines (heads and those behind them), as the workers' sweeper last
        # counted them; without a sweep yet (no worker), the jobs in the queue.
        self.queue_depth.set(int(waiting) if waiting is not None else queued)
        self.dead_letter_queue_depth.set(dead)
        self.scheduled.set(scheduled)
        self.counts.read(counts)
        self.redis_up.set(1)
