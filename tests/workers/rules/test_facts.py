"""workers/rules/facts.py: a rule's reads take the provider gate's slot first, and make their
call only once they have it (real Redis for the gate)."""

from __future__ import annotations

import gc
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from expbridge.config.settings import Settings
from expbridge.events.targets import ConvertTarget, QonversionTarget
from expbridge.workers.deps import JobDeps
from expbridge.workers.pacing import ProviderBusy
from expbridge.workers.rules.facts import read_facts
from expbridge.workers.worker import worker_deps


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[JobDeps]:
    async with worker_deps(settings) as opened:
        yield opened


async def open_circuit(deps: JobDeps, provider: str) -> None:
    """The provider's breaker opened as transient failures open it, through the gate."""
    for _ in range(deps.settings.pace.of(provider).breaker_failures):
        ticket = await deps.gate.acquire(provider)
        await deps.gate.release(provider, ticket, "failure")


@pytest.mark.parametrize(
    "target",
    [
        QonversionTarget(provider="qonversion", experiment_id="exp_busy"),
        ConvertTarget(provider="convert", project_id="1", experience_id="2"),
    ],
)
async def test_a_read_the_gate_refuses_makes_no_call(
    deps: JobDeps, target: QonversionTarget | ConvertTarget
) -> None:
    """ProviderBusy reaches the rule, and no request was made (before, the call's coroutine was
    made first and dropped unawaited: a RuntimeWarning for each refused read)."""
    await open_circuit(deps, target.provider)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for experiment, report in ((True, False), (False, True)):
            with pytest.raises(ProviderBusy):
                await read_facts(
                    deps, target, now=datetime.now(UTC), experiment=experiment, report=report
                )
        gc.collect()
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
