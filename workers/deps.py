"""What every job needs, opened once per worker process and handed to jobs through arq's ctx."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from arq.connections import ArqRedis

from expbridge.config.logging import LineWriter, context_line_writer
from expbridge.config.settings import Settings
from expbridge.events.callbacks import Callbacks
from expbridge.events.rules.evaluation_log import RuleLog
from expbridge.events.store.acceptor import Acceptor
from expbridge.events.store.queue import QueueScripts
from expbridge.events.store.records import EventStore
from expbridge.workers.bridge_worker import TakePrefetched
from expbridge.workers.clients import ProviderClients
from expbridge.workers.job_writes import Handoff, JobScripts
from expbridge.workers.metrics import WorkerMetrics
from expbridge.workers.notify import Notifier
from expbridge.workers.pacing import ProviderGate
from expbridge.workers.retry import RetryPolicy
from expbridge.workers.rules.book import RuleBook

DEPS = "expbridge"
WORKER_LOG = "expbridge.worker"


@dataclass
class JobDeps:
    settings: Settings
    redis: ArqRedis
    store: EventStore
    scripts: QueueScripts
    clients: ProviderClients
    policy: RetryPolicy
    gate: ProviderGate
    job_scripts: JobScripts
    session: aiohttp.ClientSession
    metrics: WorkerMetrics
    # Lifecycle rules: what they are, how their actions are queued, where evaluations go.
    rules: RuleBook
    acceptor: Acceptor
    rule_log: RuleLog
    notifier: Notifier
    # Outcome callbacks: queued here when an event ends, delivered as events of their own.
    callbacks: Callbacks
    # Starts a job now rather than at the next poll (workers/bridge_worker.py); None outside
    # a worker.
    handoff: Handoff | None = None
    # The record and dispatch counter read with the job's claim (workers/bridge_worker.py), by
    # job id; None outside a worker, where each job reads its own.
    prefetched: TakePrefetched | None = None
    # Tells the worker that FINISH did arq's own finishing of a job (the worker skips it).
    arq_finished: Callable[[str], None] | None = None
    # Each attempt's `job attempt` line, rendered in one call (bench/worker_throughput.py).
    attempt_line: LineWriter = field(default_factory=lambda: context_line_writer(WORKER_LOG))

    @property
    def attempt_budget_s(self) -> float:
        return self.settings.worker.job_timeout_s * 0.75

    @property
    def job_expiry_ms(self) -> int:
        return self.settings.job_expiry_ms

    @property
    def retention_ms(self) -> int:
        return self.settings.event_retention_s * 1000
