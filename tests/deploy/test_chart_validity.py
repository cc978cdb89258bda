"""The chart lints clean, every manifest is valid Kubernetes, and bad values fail loudly."""

from __future__ import annotations

import re
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest

from tests.deploy.chart import (
    CHART_DIR,
    KUBE_VERSION,
    evaluation_values,
    production_values,
    render,
)

WARNING = 2  # helm lint severities: 1 info, 2 warning, 3 error

VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "evaluation": evaluation_values(),
    "production": production_values(),
    "everything-on": {
        "secrets": {"adminToken": "a", "sources": {"s": {"token": "t"}}, "redisPassword": "p"},
        "config": {"targets": {"t": {"provider": "qonversion", "experiment_id": "e"}}},
        "ingress": {"enabled": True, "tls": [{"secretName": "tls", "hosts": ["expbridge.local"]}]},
        "web": {"autoscaling": {"enabled": True, "targetMemoryUtilizationPercentage": 80}},
        "worker": {"autoscaling": {"enabled": True}, "pdb": {"minAvailable": "50%"}},
        "redis": {"bundled": {"persistence": {"enabled": False}}},
    },
    "external-url": {
        "redis": {"bundled": {"enabled": False}, "external": {"url": "redis://r:6379/0"}},
        "serviceAccount": {"create": False},
        "worker": {"metricsService": {"enabled": False}, "pdb": {"enabled": False}},
    },
}


def test_the_kubernetes_version_is_one_kubernetes_validate_ships_offline() -> None:
    # Version-pinned schemas are bundled in the package: validation never downloads anything.
    assert KUBE_VERSION in kubernetes_validate.utils.all_versions()


@pytest.mark.parametrize("variant", ["default", "evaluation", "production"])
def test_helm_lint_is_clean(variant: str) -> None:
    report = helm.lint(CHART_DIR, VARIANTS[variant], strict=True, kube_version=f"v{KUBE_VERSION}")
    assert report["total_charts_linted"] == 1
    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= WARNING]
    assert problems == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_manifest_is_valid_kubernetes(variant: str) -> None:
    docs = render(VARIANTS[variant])
    kinds = {doc["kind"] for doc in docs}
    assert {"Deployment", "Service", "ConfigMap"} <= kinds
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            used = kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{variant}: {name} is invalid for Kubernetes {KUBE_VERSION}: {error}")
        assert used == KUBE_VERSION.rsplit(".", 1)[0], "validated against another version"
        assert doc["metadata"]["namespace"] == "expbridge", name


@pytest.mark.parametrize("variant", ["default", "evaluation", "production"])
def test_manifests_are_valid_on_the_oldest_supported_kubernetes(variant: str) -> None:
    # Chart.yaml promises kubeVersion >=X.Y.0-0; hold the manifests to that promise too.
    with helm.Chart.load(CHART_DIR) as chart:
        minimum = re.fullmatch(r">=(\d+\.\d+\.\d+)-0", chart.metadata["kubeVersion"])
    assert minimum, "kubeVersion should be a plain lower bound"
    for doc in render(VARIANTS[variant]):
        kubernetes_validate.validate(doc, minimum.group(1), strict=True)


def test_every_variant_renders_the_expected_objects() -> None:
    counts = {
        variant: sorted(doc["kind"] for doc in render(values))
        for variant, values in VARIANTS.items()
    }
    assert counts["default"].count("PodDisruptionBudget") == 2
    assert "StatefulSet" in counts["default"] and "Ingress" not in counts["default"]
    assert counts["everything-on"].count("HorizontalPodAutoscaler") == 2
    assert "ServiceAccount" not in counts["external-url"]


INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "bundled-and-external-url": (
        {"redis": {"external": {"url": "redis://r:6379/0"}}},
        "choose exactly one mode",
    ),
    "bundled-and-sentinels": (
        {"redis": {"external": {"sentinels": ["s:26379"]}}},
        "choose exactly one mode",
    ),
    "no-redis": ({"redis": {"bundled": {"enabled": False}}}, "no Redis configured"),
    "url-and-sentinels": (
        {
            "redis": {
                "bundled": {"enabled": False},
                "external": {"url": "redis://r:6379/0", "sentinels": ["s:26379"]},
            }
        },
        "either url or sentinels",
    ),
    "grace-equal-to-wait": (
        {"worker": {"shutdownWaitSeconds": 30, "terminationGracePeriodSeconds": 30}},
        "must be longer than worker.shutdownWaitSeconds",
    ),
    "grace-shorter-than-wait": (
        {"worker": {"shutdownWaitSeconds": 60, "terminationGracePeriodSeconds": 45}},
        "must be longer than worker.shutdownWaitSeconds",
    ),
    "credential-in-configmap": (
        {"config": {"sources": {"growth": {"token": "t"}}}},
        "never in the ConfigMap",
    ),
    "hpa-without-target": (
        {"web": {"autoscaling": {"enabled": True, "targetCPUUtilizationPercentage": None}}},
        "web.autoscaling",
    ),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_values_fail_to_render(case: str) -> None:
    values, message = INVALID[case]
    with pytest.raises(helm.HelmRenderError, match=message):
        render(values)


def test_production_with_bundled_redis_also_fails() -> None:
    with pytest.raises(helm.HelmRenderError, match="choose exactly one mode"):
        render(production_values(redis={"bundled": {"enabled": True}}))


@pytest.mark.parametrize(
    "values",
    [
        {"web": {"replicaCount": "three"}},
        {"settings": {"convert": {"apiVersion": "v3"}}},
        {"secrets": {"sources": {"hooks": {"webhook_secret": "not-whsec"}}}},
        {"redis": {"bundled": {"enabled": False}, "external": {"sentinels": ["no-port"]}}},
    ],
)
def test_values_schema_rejects_malformed_values(values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        render(values)
