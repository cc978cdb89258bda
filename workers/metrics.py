"""Worker metrics: jobs, retries, dead letters, time to a terminal status, upstream requests.

One `WorkerMetrics` per worker process, with its own registry (no module-level collectors),
served by `workers.metrics_server` on EXPBRIDGE_WORKER__METRICS_PORT.
"""

from __future__ import annotations

from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram

from expbridge.events.record import EventRecord, utcnow

# From a fast upstream (tens of ms) to the retry policy's age limit (hours).
TIME_TO_TERMINAL_BUCKETS = (
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    300,
    900,
    3600,
    6 * 3600,
    24 * 3600,
)
UPSTREAM_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


Metric = TypeVar("Metric", Counter, Histogram)


def provider_of(record: EventRecord) -> str:
    """The provider half of the ordering key (`qonversion:exp_1` → `qonversion`)."""
    provider, sep, _ = record.target.partition(":")
    return provider if sep else "unknown"


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # Label children looked up once: `labels()` takes a lock and builds its key on every
        # call, several times per event (bench/worker_throughput.py).
        self._children: dict[tuple[Any, ...], Any] = {}
        self.jobs = Counter(
            "expbridge_jobs",
            "Job attempts by outcome: succeeded, retrying or dead",
            ["type", "provider", "outcome"],
            registry=self.registry,
        )
        self.retries = Counter(
            "expbridge_retries",
            "Attempts that ended in a scheduled retry",
            ["type", "provider"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "expbridge_dead_letters",
            "Events that ended dead (kept as dead letters), by error kind",
            ["type", "provider", "reason"],
            registry=self.registry,
        )
        self.time_to_terminal = Histogram(
            "expbridge_event_time_to_terminal_seconds",
            "From accept (or the last replay) to succeeded or dead",
            ["type", "provider", "status"],
            buckets=TIME_TO_TERMINAL_BUCKETS,
            registry=self.registry,
        )
        self.upstream_requests = Counter(
            "expbridge_upstream_requests",
            "Upstream API requests by status class (error: no HTTP answer)",
            ["provider", "operation", "status_class"],
            registry=self.registry,
        )
        self.upstream_duration = Histogram(
            "expbridge_upstream_request_duration_seconds",
            "Upstream API request duration",
            ["provider", "operation", "status_class"],
            buckets=UPSTREAM_BUCKETS,
            registry=self.registry,
        )

        self.callbacks = Counter(
            "expbridge_callbacks",
            "Outcome callback attempts: delivered, failed (will retry), rejected (final answer "
            "from the receiver) or refused (destination not allowed)",
            ["outcome"],
            registry=self.registry,
        )
        self.callback_duration = Histogram(
            "expbridge_callback_duration_seconds",
            "Outcome callback attempt duration",
            ["outcome"],
            buckets=UPSTREAM_BUCKETS,
            registry=self.registry,
        )
        self.rule_evaluations = Counter(
            "expbridge_rule_evaluations",
            "Lifecycle rule evaluations by outcome: fired, dry_run, not_met, already_fired, error",
            ["rule", "outcome"],
            registry=self.registry,
        )

    def _child(self, metric: Metric, *labels: str) -> Metric:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def job_finished(self, record: EventRecord) -> None:
        """The attempt ended the event: succeeded or dead."""
        provider = provider_of(record)
        self._child(self.jobs, record.type, provider, record.status).inc()
        elapsed_s = max((utcnow() - record.started_at).total_seconds(), 0.0)
        self._child(self.time_to_terminal, record.type, provider, record.status).observe(elapsed_s)
        if record.status == "dead":
            reason = record.last_error.kind if record.last_error is not None else "unknown"
            self.dead_letters.labels(record.type, provider, reason).inc()

    def job_retrying(self, record: EventRecord) -> None:
        provider = provider_of(record)
        self.jobs.labels(record.type, provider, "retrying").inc()
        self.retries.labels(record.type, provider).inc()

    def callback_attempt(self, outcome: str, duration_s: float) -> None:
        """A `CallbackObserver` (workers/callbacks/client.py)."""
        self.callbacks.labels(outcome).inc()
        self.callback_duration.labels(outcome).observe(duration_s)

    def upstream_request(
        self, provider: str, operation: str, status_class: str, duration_s: float
    ) -> None:
        """An `UpstreamObserver` (workers/providers/http.py)."""
        self._child(self.upstream_requests, provider, operation, status_class).inc()
        self._child(self.upstream_duration, provider, operation, status_class).observe(duration_s)
