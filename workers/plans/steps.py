"""What a plan is made of: named steps, and what steps share about uncertain earlier attempts.

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
from typing import Any

from expbridge.events.event_data import EventData
from expbridge.events.record import EventRecord
from expbridge.workers.clients import ProviderClients
from expbridge.workers.providers.errors import UpstreamError
from expbridge.workers.providers.http import Outcome

# (clients, the event's record, the step's idempotency key) -> upstream outcome
StepRun = Callable[[ProviderClients, EventRecord, str], Awaitable[Outcome[Any]]]
PlanBuilder = Callable[[EventData], "list[PlannedStep]"]


@dataclass(frozen=True)
class PlannedStep:
    name: str
    provider: str
    run: StepRun


class UnplannableEvent(Exception):
    """The worker cannot carry out this event: its record does not fit the contract."""


def after_uncertain_attempt(record: EventRecord, step_name: str) -> bool:
    """An earlier attempt of this step was sent (jobs.py saves the count before each call)."""
    step = record.step(step_name)
    return step is not None and step.attempts > 1


def already_deleted(error: UpstreamError, record: EventRecord, step_name: str) -> bool:
    """A 404 for a delete whose earlier attempt may have gone through: the delete is done."""
    return error.status == 404 and after_uncertain_attempt(record, step_name)


def removal(
    name: str, provider: str, call: Callable[[ProviderClients, str], Awaitable[Outcome[Any]]]
) -> list[PlannedStep]:
    """A delete step: a 404 after an attempt whose outcome is unknown means it went through."""

    async def run(clients: ProviderClients, record: EventRecord, key: str) -> Outcome[Any]:
        try:
            return await call(clients, key)
        except UpstreamError as error:
            if already_deleted(error, record, name):
                return Outcome(404, None)
            raise

    return single(name, provider, run)


def single(name: str, provider: str, run: StepRun) -> list[PlannedStep]:
    return [PlannedStep(name, provider, run)]
