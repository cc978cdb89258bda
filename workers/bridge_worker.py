"""arq's Worker with four changes: its Redis pool packs commands with hiredis (ours, from
events/store/connection.py); a job whose FINISH dispatched the next event of its line hands
that job to this worker at once instead of leaving it for the next poll — so one line runs
event after event without a poll period between them (bench/worker_throughput.py); a job is
claimed in one script instead of arq's four round trips, the script reading the event's
record for the job at the same time (lua/claim_job.lua) — and the job's own first read, arq's
run_job's MULTI GET INCR EXPIRE EXEC, which run_job then takes from the claim — and a job that
FINISH ended is not finished again by arq (FINISH did arq's finish_job work in the same script,
lua/before_finish.lua). A round trip costs the worker ~40 µs of CPU and Redis ~14 µs.

The claim is arq 0.28's `start_jobs` (pinned in pyproject.toml; check it when moving the pin)
with the WATCH / EXISTS / ZSCORE / MULTI PSETEX EXEC sequence made one atomic script: a job
already in progress, gone from the queue or deferred is skipped as arq skips it. The record
read with the claim is what the job's own read would find: once the in-progress key is set,
nothing but this job changes an event's record (a cancel answers 409, a replay needs the event
dead, the sweeper leaves a head with a job in progress alone). The job's read is arq's: the job
and its try count (the try counter incremented, its TTL renewed) taken atomically with the
in-progress key, as arq takes them just after it; run_job finds them in place of its pipeline
(the first thing it does, through `self.pool`: `_ClaimedRead`).

The hand-over goes through arq's own `start_jobs`: the in-progress key, the job's try count
and its timeout are arq's as for a polled job, so a worker killed with the job running leaves
it to be picked up again like any other. Another worker polling at the same moment may take
it instead; arq's in-progress check lets only one of them run it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable
from importlib.resources import files
from typing import Any, cast

from arq import Worker
from arq.connections import ArqRedis
from arq.utils import timestamp_ms
from redis.commands.core import AsyncScript

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.store.connection import create_redis

log = logging.getLogger("arq.worker")
CLAIM_JOB = files("expbridge.workers").joinpath("lua", "claim_job.lua").read_text()
# An event's record and dispatch counter as the claim read them (None: not read with it).
Prefetched = tuple[bytes | None, bytes | None]
TakePrefetched = Callable[[str], Prefetched | None]
# The job and its try number as the claim read them, for arq's run_job.
JobRead = tuple[bytes | None, int]
# arq's run_job renews the try counter's TTL to this (arq 0.28, arq/worker.py).
ARQ_RETRY_TTL_S = 88400
# Set in a job's task while its claim's read waits for run_job's first pipeline.
_CLAIMED_READ: contextvars.ContextVar[JobRead | None] = contextvars.ContextVar(
    "claimed_read", default=None
)

# Where jobs find the hand-over and the records read with their claims in arq's ctx
# (workers/worker.py puts them in the jobs' deps).
HANDOFF = "expbridge_handoff"
PREFETCHED = "expbridge_prefetched"
ARQ_FINISHED = "expbridge_arq_finished"
# How long close() lets hand-overs under way start their jobs; one still waiting then (for a
# job place or a Redis connection) is cancelled: its job is picked up again like any other.
HANDOFF_CLOSE_S = 5.0


class BridgeWorker(Worker):
    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._settings = settings
        self._handoffs: set[asyncio.Task[None]] = set()
        self._closing = False
        self._prefetched: dict[str, Prefetched] = {}
        self._job_reads: dict[str, JobRead] = {}
        self._claim: AsyncScript | None = None
        self.ctx[HANDOFF] = self.take_next
        self.ctx[PREFETCHED] = self.take_prefetched
        # Jobs whose FINISH script did arq's finish_job work (before_finish.lua).
        self._finished_by_script: set[str] = set()
        self.ctx[ARQ_FINISHED] = self._finished_by_script.add

    async def main(self) -> None:
        if self._pool is None:
            self._pool = await create_redis(self._settings)
            self._pool.expires_extra_ms = self.expires_extra_ms
        await super().main()

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """arq's start_jobs, each job claimed by one script (see the module's docstring)."""
        if self._claim is None:
            self._claim = self.pool.register_script(CLAIM_JOB)
        claim = self._claim
        in_progress_ms = int(self.in_progress_timeout_s * 1000)
        for job_id_b in job_ids:
            await self.sem.acquire()
            if self.job_counter >= self.max_jobs:
                self.sem.release()
                return
            self.job_counter += 1
            job_id = job_id_b.decode()
            event_id = keys.event_of_job(job_id)
            claim_keys = [
                keys.arq_in_progress(job_id),
                self.queue_name,
                keys.arq_job(job_id),
                keys.arq_retry(job_id),
            ]
            if event_id is not None:
                claim_keys += [keys.event(event_id), keys.dispatch_counter(event_id)]
            try:
                claimed = await claim(
                    keys=claim_keys,
                    args=[job_id, timestamp_ms(), in_progress_ms, ARQ_RETRY_TTL_S],
                )
            except BaseException:
                self._release_sem_dec_counter_on_complete()
                raise
            if not claimed:
                self._release_sem_dec_counter_on_complete()
                log.debug("job %s already running elsewhere", job_id)
                continue
            score, job, job_try, record, counter = claimed
            if not self.allow_abort_jobs:  # else run_job's pipeline also reads the abort set
                self._job_reads[job_id] = (job or None, int(job_try))
            if event_id is not None:
                self._prefetched[job_id] = (record, counter)
            task = self.loop.create_task(self.run_job(job_id, int(float(score))))
            task.add_done_callback(functools.partial(self._job_ended, job_id))
            self.tasks[job_id] = task

    async def run_job(self, job_id: str, score: int) -> None:
        read = self._job_reads.pop(job_id, None)
        if read is not None:
            _CLAIMED_READ.set(read)  # this task's own context: taken by its first pipeline
        await super().run_job(job_id, score)

    @property
    def pool(self) -> ArqRedis:
        pool = cast(ArqRedis, self._pool)
        read = _CLAIMED_READ.get()
        if read is None:
            return pool
        _CLAIMED_READ.set(None)
        return cast(ArqRedis, _ClaimedRead(pool, read))

    def _job_ended(self, job_id: str, _: object) -> None:
        self._prefetched.pop(job_id, None)  # arq may end a job before it runs (expired, ...)
        self._job_reads.pop(job_id, None)
        self._finished_by_script.discard(job_id)
        self._release_sem_dec_counter_on_complete()

    async def finish_job(
        self,
        job_id: str,
        finish: bool,
        result_data: bytes | None,
        result_timeout_s: float | None,
        keep_result_forever: bool,
        incr_score: int | None,
        keep_in_progress: float | None,
    ) -> None:
        """arq's finish_job, skipped for a job whose FINISH script did the same already."""
        if finish and job_id in self._finished_by_script:
            self._finished_by_script.discard(job_id)
            return
        await super().finish_job(
            job_id,
            finish,
            result_data,
            result_timeout_s,
            keep_result_forever,
            incr_score,
            keep_in_progress,
        )

    def take_prefetched(self, job_id: str) -> Prefetched | None:
        """The record and dispatch counter the claim read for this job, once."""
        return self._prefetched.pop(job_id, None)

    def take_next(self, job_id: str) -> None:
        """Start `job_id` now (when this worker still picks jobs); it waits for a free job
        place like a polled job. Not in burst mode, whose end is decided by its polls."""
        if self.burst or not self.allow_pick_jobs or self._closing:
            return
        main_task = getattr(self, "main_task", None)
        if main_task is not None and main_task.done():  # stopped polling: no new jobs either
            return
        task = asyncio.get_running_loop().create_task(self.start_jobs([job_id.encode()]))
        self._handoffs.add(task)
        task.add_done_callback(self._handoffs.discard)

    async def close(self) -> None:
        # A hand-over under way ends like a poll under way: its job starts, and close waits —
        # for a bounded time, so a stopped worker cannot hang on one that waits for ever.
        self._closing = True
        if self._handoffs:
            _, pending = await asyncio.wait(set(self._handoffs), timeout=HANDOFF_CLOSE_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await super().close()


class _ClaimedRead:
    """The pool as run_job's first use of it sees it: its pipeline (GET job, INCR and EXPIRE
    of the try counter) answers what the claim read; everything else is the pool's."""

    def __init__(self, pool: ArqRedis, read: JobRead) -> None:
        self._pool = pool
        self._read = read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def pipeline(self, transaction: bool = True) -> _ReadPipeline:
        return _ReadPipeline(self._read)


class _ReadPipeline:
    def __init__(self, read: JobRead) -> None:
        self._read = read

    async def __aenter__(self) -> _ReadPipeline:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def get(self, *args: Any) -> None:
        """run_job's commands are queued here as on a pipeline; the claim ran them."""

    incr = expire = get

    async def execute(self) -> list[Any]:
        job, job_try = self._read
        return [job, job_try, True]
