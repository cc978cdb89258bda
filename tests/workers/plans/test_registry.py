"""Every (event type, provider) pair the catalog accepts has a plan: none is accepted to die."""

from __future__ import annotations

from expbridge.config.rules import THRESHOLD_EVENT
from expbridge.events.catalog import CATALOG
from expbridge.workers.plans.registry import PLANS


def test_every_supported_type_and_provider_has_a_plan() -> None:
    supported = {(t, p) for t, spec in CATALOG.items() for p in spec.data_models}
    # goal.threshold_reached is carried out by the rules (workers/rules/trigger.py).
    missing = {(t, p) for t, p in supported if t != THRESHOLD_EVENT} - set(PLANS)
    assert missing == set()
    assert set(PLANS) <= supported  # and no plan for a pair the ingress would refuse
