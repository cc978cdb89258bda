"""From an accepted event to its upstream steps: the plans of each provider, by event type.

Each step has a stable name; the step ledger in the status record makes sure a step recorded
done is never sent again, and the step's idempotency key goes with every mutating request.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from pydantic import ValidationError

from expbridge.events.callbacks import CALLBACK_EVENT, CallbackData
from expbridge.events.catalog import CatalogError, parse_data
from expbridge.events.record import EventRecord
from expbridge.workers.callbacks.plans import plan_callback
from expbridge.workers.plans.steps import PlanBuilder, PlannedStep, StepRun, UnplannableEvent
from expbridge.workers.providers.convert import plans as plan_convert
from expbridge.workers.providers.qonversion import plans as plan_qonversion

__all__ = ["PLANS", "PlannedStep", "StepRun", "UnplannableEvent", "plan_event"]

# (event type, provider) -> the steps that carry it out
PLANS: Mapping[tuple[str, str], PlanBuilder] = MappingProxyType(
    {
        **{(t, "qonversion"): build for t, build in plan_qonversion.PLANS.items()},
        **{(t, "convert"): build for t, build in plan_convert.PLANS.items()},
    }
)


def plan_event(record: EventRecord) -> list[PlannedStep]:
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
    builder = PLANS.get((record.type, data.target.provider))
    if builder is None:
        raise UnplannableEvent(f"no plan for {record.type} on {data.target.provider}")
    return builder(data)
