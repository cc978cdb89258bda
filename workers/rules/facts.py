"""What a rule needs to know about an experiment, read through the provider clients: its status,
start time and planned split (the experiment object; Qonversion's groups) and its results (the
normalised report).

Each read takes a slot from the provider gate like any step, so rules share the providers' pace
and circuit breaker. Upstream errors and ProviderBusy propagate to the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


async def _read(deps: JobDeps, provider: str, call: Callable[[], Awaitable[Outcome[T]]]) -> T:
    """The call's value, made once the gate gives a slot: a call made first and refused a slot
    (ProviderBusy, or cancelled while waiting) would be a coroutine never awaited."""
    async with deps.gate.slot(provider):
        return (await call()).value


Split = dict[str, float | None]


async def _experiment(
    deps: JobDeps, target: AnyTarget, split: bool
) -> tuple[str | None, datetime | None, Split | None]:
    """(status, started_at, the planned split when asked: variation id -> percent)."""
    if isinstance(target, QonversionTarget):
        assert target.experiment_id is not None
        clients = deps.clients.qonversion
        experiment_id = target.experiment_id
        experiment = await _read(deps, "qonversion", lambda: clients.get_experiment(experiment_id))
        weights = None
        if split:
            groups = await _read(deps, "qonversion", lambda: clients.list_groups(experiment_id))
            weights = {group.id: group.weight for group in groups.data}
        return experiment.status, experiment.started_at, weights
    assert isinstance(target, ConvertTarget) and target.project_id and target.experience_id
    project_id, experience_id = target.project_id, target.experience_id
    convert = deps.clients.convert
    experience = await _read(
        deps, "convert", lambda: convert.get("experiences", project_id, experience_id)
    )
    assert isinstance(experience, Experience)
    started = experience.start_time
    started_at = datetime.fromtimestamp(started, UTC) if started else None
    percentages = {v.id: v.percentage for v in experience.variations} if split else None
    return experience.experience_status, started_at, percentages


async def _report(deps: JobDeps, target: AnyTarget, goal_id: str | None) -> list[ReportVariation]:
    if isinstance(target, QonversionTarget):
        assert target.experiment_id is not None
        experiment_id = target.experiment_id
        qonversion = deps.clients.qonversion
        summary = await _read(deps, "qonversion", lambda: qonversion.fetch_summary(experiment_id))
        return list(summary.variations)
    assert isinstance(target, ConvertTarget) and target.project_id and target.experience_id
    project_id, experience_id = target.project_id, target.experience_id
    convert = deps.clients.convert
    report = await _read(
        deps, "convert", lambda: convert.fetch_report(project_id, experience_id, goal_id)
    )
    return list(report.variations)


async def read_facts(
    deps: JobDeps,
    target: AnyTarget,
    *,
    now: datetime,
    experiment: bool,
    report: bool,
    split: bool = False,
    goal_id: str | None = None,
    threshold: ThresholdFact | None = None,
) -> Facts:
    status = started_at = planned = None
    running = None
    if experiment:
        status, started_at, planned = await _experiment(deps, target, split)
        running = status == RUNNING
    variations = await _report(deps, target, goal_id) if report else None
    return Facts(
        now=now,
        running=running,
        status=status,
        started_at=started_at,
        variations=variations,
        planned_split=planned,
        threshold=threshold,
    )
