"""The console's summaries cache: computed once per interval whoever asks, a stale value
answered at once while a newer one is computed, errors passed to whoever waits."""

from __future__ import annotations

import asyncio

import pytest

from expbridge.service.console.summaries import SummaryCache


class Counter:
    """Counts its computations; each takes `delay_s` and answers the count so far."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls = 0
        self.delay_s = delay_s

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        return self.calls


async def test_one_computation_for_pages_asking_together_and_while_fresh() -> None:
    cache, compute = SummaryCache(fresh_s=60, stale_s=120), Counter(delay_s=0.05)
    first = await asyncio.gather(*(cache.get("k", compute) for _ in range(5)))
    assert compute.calls == 1 and {s.value for s in first} == {1}
    again = await cache.get("k", compute)
    assert again.value == 1 and again.as_of == first[0].as_of and compute.calls == 1
    assert (await cache.get("other", compute)).value == 2  # another key, its own value


async def test_a_stale_value_is_answered_soon_and_refreshed_behind() -> None:
    cache = SummaryCache(fresh_s=0.05, stale_s=10, wait_s=0.02)
    compute = Counter(delay_s=0.2)
    assert (await cache.get("k", compute)).value == 1
    await asyncio.sleep(0.1)  # no longer fresh
    started = asyncio.get_running_loop().time()
    stale = await cache.get("k", compute)
    assert stale.value == 1 and asyncio.get_running_loop().time() - started < 0.15
    await asyncio.sleep(0.3)  # the refresh has finished
    assert (await cache.get("k", compute)).value == 2
    await cache.close()


async def test_a_newer_value_ready_in_time_is_shown_instead_of_the_stale_one() -> None:
    cache, compute = SummaryCache(fresh_s=0.01, stale_s=10, wait_s=1), Counter(delay_s=0.01)
    assert (await cache.get("k", compute)).value == 1
    await asyncio.sleep(0.05)
    assert (await cache.get("k", compute)).value == 2


async def test_too_old_waits_for_a_new_value() -> None:
    cache, compute = SummaryCache(fresh_s=0.01, stale_s=0.02), Counter()
    assert (await cache.get("k", compute)).value == 1
    await asyncio.sleep(0.05)
    assert (await cache.get("k", compute)).value == 2


async def test_an_error_reaches_the_page_and_the_next_page_tries_again() -> None:
    cache = SummaryCache()
    tries = 0

    async def failing() -> int:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise ConnectionError("redis went away")
        return 7

    with pytest.raises(ConnectionError):
        await cache.get("k", failing)
    assert (await cache.get("k", failing)).value == 7


async def test_keys_are_bounded() -> None:
    cache, compute = SummaryCache(max_keys=3), Counter()
    for n in range(5):
        await cache.get(n, compute)
    assert list(cache.kept) == [2, 3, 4]
