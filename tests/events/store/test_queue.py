"""The queue scripts write jobs arq itself reads, with keys only from the key table."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from arq.jobs import Job, deserialize_job
from redis.asyncio import Redis

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.record import EventRecord
from expbridge.events.store.acceptor import Accepted, Acceptor, IdempotencyConflict
from expbridge.events.store.queue import JOB_FUNCTION, QueueScripts, job_deserializer

ROOT = Path(__file__).resolve().parents[3]
SOURCE_FOLDERS = ["config", "events", "service", "workers", "sandbox", "cli"]
KEY_LITERAL = re.compile(r"""["'](?:expbridge|arq):[\w{-]""")


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


def _record(event_id: str, target: str = "qonversion:experiment:exp_1") -> EventRecord:
    return EventRecord(id=event_id, type="t", source="growth", target=target, data={})


async def test_arq_reads_the_job_the_accept_script_wrote(
    redis: Redis, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    acceptor = Acceptor(redis, settings)
    before_ms = int(time.time() * 1000)
    await acceptor.accept(_record("evt_a"), None, "fp")
    await acceptor.close()

    job_ids = [raw.decode() for raw in await redis.zrange(settings.queue_name, 0, -1)]
    assert job_ids == [keys.job_id("evt_a", 1)]
    assert keys.event_of_job(job_ids[0]) == "evt_a"
    raw = await redis.get(keys.arq_job(job_ids[0]))
    assert raw is not None
    job = deserialize_job(raw, deserializer=job_deserializer)
    assert job.function == JOB_FUNCTION
    assert list(job.args) == ["evt_a", 1]
    assert job.kwargs == {}
    assert job.job_try == 1
    assert before_ms - 1000 <= job.enqueue_time.timestamp() * 1000 <= time.time() * 1000 + 1000
    # arq's own Job API finds it queued under that id.
    info = await Job(
        job_ids[0], redis, _queue_name=settings.queue_name, _deserializer=job_deserializer
    ).info()
    assert info is not None
    assert info.function == JOB_FUNCTION


async def test_concurrent_accepts_share_one_script_run_and_each_gets_its_own_answer(
    redis: Redis, make_settings: Callable[..., Settings]
) -> None:
    """A group commit runs ACCEPT_MANY once for the events waiting: each is accepted in line
    order (one job per line head), a replayed key answers with its first event, and a script
    cache Redis lost is loaded again."""
    settings = make_settings()
    acceptor = Acceptor(redis, settings)
    first = await acceptor.accept(
        _record("evt_first", "qonversion:experiment:other"), "growth:k1", "fp1"
    )
    await acceptor.accept(_record("evt_second", "qonversion:experiment:other"), "growth:k2", "fp2")
    await redis.script_flush()
    before = (await redis.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0)
    records = [_record(f"evt_{n:02d}", f"qonversion:experiment:exp_{n % 3}") for n in range(30)]
    answers = await asyncio.gather(
        *(acceptor.accept(record, None, "fp") for record in records),
        acceptor.accept(_record("evt_again"), "growth:k1", "fp1"),
        acceptor.accept(_record("evt_reused"), "growth:k2", "fp3"),
        return_exceptions=True,
    )
    await acceptor.close()
    calls = (await redis.info("commandstats"))["cmdstat_evalsha"]["calls"] - before
    assert calls <= 3  # the first flush (refused: no script), its rerun, and the rest's run
    assert [getattr(answer, "event_id", answer) for answer in answers[:30]] == [
        r.id for r in records
    ]
    assert answers[30] == Accepted(first.event_id, replayed=True)
    assert isinstance(answers[31], IdempotencyConflict)
    assert await redis.exists(*(keys.event(r.id) for r in records)) == len(records)
    for line in range(3):
        in_line = [r.id for r in records if r.target.endswith(f"exp_{line}")]
        order = await redis.lrange(keys.order(f"qonversion:experiment:exp_{line}"), 0, -1)
        assert [raw.decode() for raw in order] == in_line
    assert await redis.zcard(settings.queue_name) == 1 + 3  # the first two's line, and the three


async def test_finish_dispatches_the_next_event_as_an_arq_job(
    redis: Redis, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    acceptor = Acceptor(redis, settings)
    await acceptor.accept(_record("evt_a"), None, "fp")
    await acceptor.accept(_record("evt_b"), None, "fp")
    await acceptor.close()
    assert await redis.zcard(settings.queue_name) == 1  # only the head of the line has a job

    scripts = QueueScripts(redis, settings.queue_name)
    finished = _record("evt_a").model_copy(update={"status": "succeeded"})
    next_job = await scripts.finish(
        keys=scripts.finish_keys("evt_a", finished.target),
        args=["evt_a", finished.model_dump_json(), int(time.time() * 1000), 60_000, 60_000, "0"],
    )
    assert next_job == keys.job_id("evt_b", 1).encode()  # for the finishing worker to start now
    # A succeeded event is never dispatched again: its counter goes (a dead one keeps it).
    assert await redis.exists(keys.dispatch_counter("evt_a")) == 0
    raw = await redis.get(keys.arq_job(keys.job_id("evt_b", 1)))
    assert raw is not None
    assert list(deserialize_job(raw, deserializer=job_deserializer).args) == ["evt_b", 1]


def test_no_source_file_outside_the_key_table_spells_a_redis_key() -> None:
    table = ROOT / "events" / "keys.py"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in SOURCE_FOLDERS
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in {".py", ".lua"} and path != table
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if KEY_LITERAL.search(line)
    ]
    assert offenders == []
    # The check itself finds what it looks for.
    assert KEY_LITERAL.search(table.read_text())
