"""What a plan is made of: an event's one named step, and what steps share about uncertain
earlier attempts.

A step's attempts counter is raised before each call, so inside `run` a count above one
means an earlier attempt's outcome is unknown (a transient failure or a timeout): a create
must look for what that attempt may have made, and a delete that meets 404 has already
happened. A worker killed mid-call never saved that counter, but the event's own attempts
counter is saved before any step runs, so it is read too: a second run of the event may
follow an unknown outcome. (At worst that costs one lookup that finds nothing.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from expbridge.events.record import EventRecord
from expbridge.workers.clients import ProviderClients
from expbridge.workers.deps import JobDeps
from expbridge.workers.providers.errors import UpstreamError
from expbridge.workers.providers.http import Outcome

# (the job's deps, the event's record, the step's idempotency key) -> the step's outcome
StepRun = Callable[[JobDeps, EventRecord, str], Awaitable[Outcome[Any]]]
Data = TypeVar("Data", bound=BaseModel)


@dataclass(frozen=True)
class PlannedStep:
    name: str
    # Who the step talks to: its pacing slot and breaker, and the `provider` of its log lines.
    provider: str
    run: StepRun
    # A step that makes no upstream call (the rules' evaluation) takes no pacing slot.
    paced: bool = True


class UnplannableEvent(Exception):
    """The worker cannot carry out this event: its record does not fit the contract."""


@dataclass(frozen=True)
class Plan(Generic[Data]):
    """How the events of one data model are carried out: the builder of their one step."""

    model: type[Data]
    build: Callable[[Data], PlannedStep]

    def step_for(self, data: BaseModel) -> PlannedStep:
        if not isinstance(data, self.model):  # the catalog and the registry disagree
            raise UnplannableEvent(f"{type(data).__name__} is not {self.model.__name__}")
        return self.build(data)


def after_uncertain_attempt(record: EventRecord, step_name: str) -> bool:
    """An earlier attempt of this step was sent (jobs.py saves the count before each call)."""
    step = record.step(step_name)
    return step is not None and step.attempts > 1


def already_deleted(error: UpstreamError, record: EventRecord, step_name: str) -> bool:
    """A 404 for a delete whose earlier attempt may have gone through: the delete is done."""
    return error.status == 404 and after_uncertain_attempt(record, step_name)


def removal(
    name: str, provider: str, call: Callable[[ProviderClients, str], Awaitable[Outcome[Any]]]
) -> PlannedStep:
    """A delete step: a 404 after an attempt whose outcome is unknown means it went through."""

    async def run(deps: JobDeps, record: EventRecord, key: str) -> Outcome[Any]:
        try:
            return await call(deps.clients, key)
        except UpstreamError as error:
            if already_deleted(error, record, name):
                return Outcome(404, None)
            raise

    return PlannedStep(name, provider, run)
