"""From an accepted event to its step: the plans of each provider (and the rules'), by event
type and provider.

Each event has one step with a stable name; the step ledger in the status record makes sure a
step recorded done is never sent again, and the step's idempotency key goes with every
mutating request.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from expbridge.config.rules import THRESHOLD_EVENT
from expbridge.events.callbacks import CALLBACK_EVENT, CallbackData
from expbridge.events.catalog import CATALOG, CatalogError, parse_data
from expbridge.events.record import EventRecord
from expbridge.workers.callbacks.plans import plan_callback
from expbridge.workers.plans.steps import Plan, PlannedStep, StepRun, UnplannableEvent
from expbridge.workers.providers.convert import plans as plan_convert
from expbridge.workers.providers.qonversion import plans as plan_qonversion
from expbridge.workers.rules.trigger import THRESHOLD_PLAN

__all__ = ["PLANS", "PlannedStep", "StepRun", "UnplannableEvent", "plan_event"]

# (event type, provider) -> how its events are carried out
PLANS: Mapping[tuple[str, str], Plan[Any]] = MappingProxyType(
    {
        **{(t, "qonversion"): plan for t, plan in plan_qonversion.PLANS.items()},
        **{(t, "convert"): plan for t, plan in plan_convert.PLANS.items()},
        # A fact for the lifecycle rules, on any provider the catalog takes it for.
        **{(THRESHOLD_EVENT, p): THRESHOLD_PLAN for p in CATALOG[THRESHOLD_EVENT].data_models},
    }
)


def plan_event(record: EventRecord) -> PlannedStep:
    if record.type == CALLBACK_EVENT:  # internal: queued by the bridge, never by producers
        try:
            return plan_callback(CallbackData.model_validate(record.data))
        except ValidationError as error:
            raise UnplannableEvent(f"stored callback no longer fits: {error}") from None
    try:
        data = parse_data(record.type, record.data)
    except CatalogError as error:
        if error.error is None:
            raise UnplannableEvent(
                f"no plan for {record.type} on {error.provider or 'no provider'}"
            ) from None
        raise UnplannableEvent(f"stored data no longer fits {record.type}: {error.error}") from None
    plan = PLANS.get((record.type, data.target.provider))
    if plan is None:
        raise UnplannableEvent(f"no plan for {record.type} on {data.target.provider}")
    return plan.step_for(data)
