"""The worker role: one arq worker at a time, started again after Redis trouble.

arq's poll loop ends at the first Redis error it meets (a restart, a dropped connection, a
full or frozen Redis), and a worker that ends means no jobs run until someone restarts it. So
the runner retires a worker that met Redis trouble (its running jobs finish or fail over to
the next run, its connections close) and starts a fresh one after a backoff, for as long as
the process lives: an outage costs its duration, and the worker resumes by itself. Its
health key is not refreshed meanwhile, so `expbridge worker --check` fails while Redis is down.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from arq import Worker

from expbridge.config.settings import Settings
from expbridge.events.store.connection import REDIS_TROUBLE, describe_redis_error
from expbridge.workers.background import RECANCEL_S
from expbridge.workers.worker import create_worker

log = structlog.get_logger("expbridge.cli")
BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 10.0
# A worker that ran this long before its trouble starts again after the shortest backoff.
STEADY_S = 30.0
# How long a stop waits for arq's poll loop to end once cancelled (it ends at its next await).
STOP_WAIT_S = 5.0
# How long closing a worker may take (its jobs have ended by then): Redis trouble must not
# hold a restart or a shutdown up for ever.
CLOSE_WAIT_S = 5.0


class WorkerRunner:
    def __init__(self, settings: Settings, **worker_options: Any) -> None:
        self.settings = settings
        self.worker_options = worker_options
        self.current: Worker | None = None
        self.stopping = False
        self.restarts = 0

    async def run(self) -> None:
        """Until cancelled, or until a worker ends by itself without Redis trouble."""
        loop = asyncio.get_running_loop()
        backoff = BACKOFF_MIN_S
        while not self.stopping:
            arq_worker = self.current = create_worker(self.settings, **self.worker_options)
            started = loop.time()
            try:
                await arq_worker.async_run()
                return
            except REDIS_TROUBLE as error:
                if self.stopping:
                    return
                if loop.time() - started > STEADY_S:
                    backoff = BACKOFF_MIN_S
                log.warning(
                    "redis trouble: the worker stops and starts again",
                    error=describe_redis_error(error),
                    retry_in_s=backoff,
                )
            await retire(arq_worker, self.settings.worker.job_timeout_s)
            self.current = None
            self.restarts += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)


async def retire(arq_worker: Worker, wait_s: float) -> None:
    """After Redis trouble: no new jobs; running ones get `wait_s` (their Redis errors make them
    run again later, see workers/jobs.py); then close, even if Redis cannot be told."""
    arq_worker.allow_pick_jobs = False
    running = [t for t in arq_worker.tasks.values() if not t.done()]
    if running:
        await asyncio.wait(running, timeout=wait_s)
    for task in running:
        task.cancel()
    await asyncio.gather(*arq_worker.tasks.values(), return_exceptions=True)
    arq_worker.tasks.clear()
    try:
        async with asyncio.timeout(CLOSE_WAIT_S):
            await arq_worker.close()
    except REDIS_TROUBLE:  # TimeoutError too: a close that Redis trouble holds up
        # close() stopped short (at the health key, say): shut down what jobs shared ourselves.
        if arq_worker.on_shutdown is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_WAIT_S):
                    await arq_worker.on_shutdown(arq_worker.ctx)
        with contextlib.suppress(Exception):
            await arq_worker.pool.close(close_connection_pool=True)


def _running_jobs(arq_worker: Worker) -> dict[str, asyncio.Task[None]]:
    return {job_id: t for job_id, t in arq_worker.tasks.items() if not t.done()}


async def stop_worker(arq_worker: Worker, task: asyncio.Task[None], wait_s: float) -> None:
    """Pick no more jobs (the rest stay queued), give running ones `wait_s` to finish, then
    cancel what still runs: arq puts a cancelled job back in the queue to be run again."""
    arq_worker.allow_pick_jobs = False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    running = _running_jobs(arq_worker)
    if running:
        log.info("waiting for running jobs", jobs=sorted(running), wait_s=wait_s)
    # Looked at again after each wait: a poll under way when the flag flipped may start one more.
    while running and (left := deadline - loop.time()) > 0:
        await asyncio.wait(running.values(), timeout=left)
        running = _running_jobs(arq_worker)
    if running:
        log.warning("shutdown wait over; cancelled jobs stay queued", jobs=sorted(running))
    try:
        done = await _cancel_poll_loop(arq_worker, task, deadline=loop.time() + STOP_WAIT_S)
        if not done:
            log.warning("the worker's poll loop did not stop in time; closing it anyway")
        elif not task.cancelled() and (stopped_by := task.exception()) is not None:
            raise stopped_by  # what stopped a worker that ended by itself
    finally:
        await _close(arq_worker)
        log.info("worker stopped")


async def _cancel_poll_loop(arq_worker: Worker, task: asyncio.Task[None], deadline: float) -> bool:
    """Cancel arq's own poll loop (its main task), then the task that runs it, again and again
    until it has ended (or the deadline passed): redis-py can swallow a cancel that arrives
    mid-command, and the loop then polls on (workers/background.py). Whether it ended."""
    loop = asyncio.get_running_loop()
    while not task.done() and (left := deadline - loop.time()) > 0:
        if arq_worker.main_task is not None:
            arq_worker.main_task.cancel()
        task.cancel()
        await asyncio.wait({task}, timeout=min(RECANCEL_S, left))
    return task.done()


async def _close(arq_worker: Worker) -> None:
    """arq's close() gathers its job tasks; one cancelled at the edge of shutdown re-raises
    CancelledError there. Its job is still queued and runs again, so that is no error here
    — unless this task itself is being cancelled."""
    try:
        async with asyncio.timeout(CLOSE_WAIT_S * 3):
            await arq_worker.close()
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        log.info("a job cancelled during shutdown stays queued")
    except REDIS_TROUBLE as error:
        log.warning("worker closed without Redis", error=describe_redis_error(error))


async def stop_runner(runner: WorkerRunner, task: asyncio.Task[None], wait_s: float) -> None:
    runner.stopping = True
    if runner.current is not None:
        await stop_worker(runner.current, task, wait_s)
        return
    task.cancel()  # between two workers (Redis trouble): nothing runs
    with contextlib.suppress(asyncio.CancelledError):
        await task
    log.info("worker stopped")
