"""What a rule needs to know about an experiment, read through the provider clients: its status
and start time (the experiment object) and its results (the normalised report).

Each read takes a slot from the provider gate like any step, so rules share the providers' pace
and circuit breaker. Upstream errors and ProviderBusy propagate to the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

from expbridge.events.targets import AnyTarget, ConvertTarget, QonversionTarget
from expbridge.workers.deps import JobDeps
from expbridge.workers.providers.convert.responses import Experience
from expbridge.workers.providers.http import Outcome
from expbridge.workers.providers.reports import ReportVariation
from expbridge.workers.rules.engine import Facts, ThresholdFact

RUNNING = "active"  # both providers call a running experiment active
T = TypeVar("T")


async def _read(deps: JobDeps, provider: str, call: Awaitable[Outcome[T]]) -> T:
    async with deps.gate.slot(provider):
        return (await call).value


async def _experiment(deps: JobDeps, target: AnyTarget) -> tuple[str | None, datetime | None]:
    """(status, started_at)."""
    if isinstance(target, QonversionTarget):
        assert target.experiment_id is not None
        clients = deps.clients.qonversion
        experiment = await _read(deps, "qonversion", clients.get_experiment(target.experiment_id))
        return experiment.status, experiment.started_at
    assert isinstance(target, ConvertTarget) and target.project_id and target.experience_id
    call = deps.clients.convert.get("experiences", target.project_id, target.experience_id)
    experience = await _read(deps, "convert", call)
    assert isinstance(experience, Experience)
    started = experience.start_time
    started_at = datetime.fromtimestamp(started, UTC) if started else None
    return experience.experience_status, started_at


async def _report(deps: JobDeps, target: AnyTarget, goal_id: str | None) -> list[ReportVariation]:
    if isinstance(target, QonversionTarget):
        assert target.experiment_id is not None
        summary = deps.clients.qonversion.fetch_summary(target.experiment_id)
        return list((await _read(deps, "qonversion", summary)).variations)
    assert isinstance(target, ConvertTarget) and target.project_id and target.experience_id
    call = deps.clients.convert.fetch_report(target.project_id, target.experience_id, goal_id)
    return list((await _read(deps, "convert", call)).variations)


async def read_facts(
    deps: JobDeps,
    target: AnyTarget,
    *,
    now: datetime,
    experiment: bool,
    report: bool,
    goal_id: str | None = None,
    threshold: ThresholdFact | None = None,
) -> Facts:
    status = started_at = None
    running = None
    if experiment:
        status, started_at = await _experiment(deps, target)
        running = status == RUNNING
    variations = await _report(deps, target, goal_id) if report else None
    return Facts(
        now=now,
        running=running,
        status=status,
        started_at=started_at,
        variations=variations,
        threshold=threshold,
    )
