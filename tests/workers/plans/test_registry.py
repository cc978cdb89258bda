"""Every (event type, provider) pair the catalog accepts has a plan: none is accepted to die."""

from __future__ import annotations

from expbridge.events.catalog import CATALOG
from expbridge.workers.plans.registry import PLANS


def test_every_supported_type_and_provider_has_a_plan() -> None:
    supported = {(t, p) for t, spec in CATALOG.items() for p in spec.data_models}
    # goal.threshold_reached included: its step is the rules' evaluation.
    assert supported - set(PLANS) == set()
    assert set(PLANS) <= supported  # and no plan for a pair the ingress would refuse


def test_each_plan_takes_the_data_model_the_catalog_parses() -> None:
    mismatched = {
        (t, p): (model.__name__, PLANS[t, p].model.__name__)
        for t, spec in CATALOG.items()
        for p, model in spec.data_models.items()
        if not issubclass(model, PLANS[t, p].model)
    }
    assert mismatched == {}
