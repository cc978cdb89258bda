"""Render helm/expbridge offline with the real Helm engine (helm-python-sdk, Helm v4)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "helm" / "expbridge"
PRODUCTION_VALUES_FILE = REPO_ROOT / "helm" / "values-production.yaml"
EVALUATION_VALUES_FILE = REPO_ROOT / "helm" / "values-evaluation.yaml"
# The Kubernetes version manifests are validated against (schemas ship with kubernetes-validate).
KUBE_VERSION = "1.33.0"
RELEASE = "eb"
NAMESPACE = "expbridge"

Manifest = dict[str, Any]


@functools.cache
def _chart() -> helm.Chart:
    return helm.Chart.load(CHART_DIR)


def production_values(**overrides: Any) -> dict[str, Any]:
    values = yaml.safe_load(PRODUCTION_VALUES_FILE.read_text(encoding="utf-8"))
    return deep_merge(values, overrides)


def evaluation_values(**overrides: Any) -> dict[str, Any]:
    values = yaml.safe_load(EVALUATION_VALUES_FILE.read_text(encoding="utf-8"))
    return deep_merge(values, overrides)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def render_templates(values: dict[str, Any] | None = None) -> dict[str, str]:
    """Template path -> rendered text, exactly as `helm template` would produce it."""
    return _chart().render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)


def render(values: dict[str, Any] | None = None) -> list[Manifest]:
    """Every Kubernetes object the chart renders (NOTES.txt excluded)."""
    docs: list[Manifest] = []
    for path, text in sorted(render_templates(values).items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs


def of_kind(docs: list[Manifest], kind: str, component: str | None = None) -> list[Manifest]:
    return [
        doc
        for doc in docs
        if doc["kind"] == kind
        and (
            component is None
            or doc["metadata"]["labels"].get("app.kubernetes.io/component") == component
        )
    ]


def one(docs: list[Manifest], kind: str, component: str | None = None) -> Manifest:
    found = of_kind(docs, kind, component)
    assert len(found) == 1, f"expected one {kind} ({component}), got {len(found)}"
    return found[0]


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: Manifest) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1
    found: dict[str, Any] = containers[0]
    return found


def env(workload: Manifest) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container(workload).get("env", [])}
