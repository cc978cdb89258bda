"""What the chart renders: roles, probes, security, config, secrets, Redis modes."""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from tests.deploy.chart import (
    RELEASE,
    container,
    env,
    evaluation_values,
    of_kind,
    one,
    pod_spec,
    production_values,
    render,
    render_templates,
)

WORKER_CHECK = ["expbridge", "health", "--role", "worker"]
MODES = {"default": {}, "evaluation": evaluation_values(), "production": production_values()}
# The sandbox is deployed where no provider credentials are given (default, evaluation).
WITH_SANDBOX = {"default", "evaluation"}


@pytest.mark.parametrize("mode", MODES)
def test_one_image_two_roles(mode: str) -> None:
    docs = render(MODES[mode])
    web, worker = one(docs, "Deployment", "web"), one(docs, "Deployment", "worker")
    assert container(web)["image"] == container(worker)["image"]
    assert (container(web)["command"], container(web)["args"]) == (["expbridge"], ["serve"])
    assert (container(worker)["command"], container(worker)["args"]) == (["expbridge"], ["worker"])
    assert container(web)["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container(worker)["ports"][0]["containerPort"] == 9091
    assert env(web)["EXPBRIDGE_HOST"]["value"] == "0.0.0.0"
    assert env(worker)["EXPBRIDGE_WORKER__METRICS_PORT"]["value"] == "9091"
    deployments = of_kind(docs, "Deployment")
    assert len(deployments) == (3 if mode in WITH_SANDBOX else 2)
    assert {container(d)["image"] for d in deployments} == {container(web)["image"]}
    selectors = [d["spec"]["selector"]["matchLabels"] for d in deployments]
    assert len({tuple(sorted(s.items())) for s in selectors}) == len(deployments), "overlap"


@pytest.mark.parametrize("mode", MODES)
def test_probes_per_role(mode: str) -> None:
    docs = render(MODES[mode])
    web = container(one(docs, "Deployment", "web"))
    assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    worker = container(one(docs, "Deployment", "worker"))
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert worker[probe]["exec"]["command"] == WORKER_CHECK
        assert "httpGet" not in worker[probe]
    for sandbox in of_kind(docs, "Deployment", "sandbox"):
        box = container(sandbox)
        for probe in ("livenessProbe", "readinessProbe"):
            assert box[probe]["httpGet"] == {"path": "/_sandbox/state", "port": "sandbox"}


@pytest.mark.parametrize("mode", MODES)
def test_pods_run_non_root_with_read_only_root_filesystem(mode: str) -> None:
    docs = render(MODES[mode])
    workloads = of_kind(docs, "Deployment") + of_kind(docs, "StatefulSet")
    assert len(workloads) == {"default": 4, "evaluation": 4, "production": 2}[mode]
    for workload in workloads:
        pod, box = pod_spec(workload), container(workload)["securityContext"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert box["runAsNonRoot"] is True
        assert box["readOnlyRootFilesystem"] is True
        assert box["allowPrivilegeEscalation"] is False
        assert box["capabilities"]["drop"] == ["ALL"]
        mounts = {m["mountPath"]: m["name"] for m in container(workload)["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], "/tmp must be a writable emptyDir"
        assert container(workload)["resources"]["requests"]
        assert container(workload)["resources"]["limits"]["memory"]
    for role in ("web", "worker", "sandbox")[: 3 if mode in WITH_SANDBOX else 2]:
        assert pod_spec(one(docs, "Deployment", role))["securityContext"]["runAsUser"] == 10001


def test_config_is_a_mounted_configmap() -> None:
    config = {"targets": {"checkout": {"provider": "qonversion", "experiment_id": "exp_1"}}}
    docs = render({"config": config})
    configmap = one(docs, "ConfigMap")
    assert yaml.safe_load(configmap["data"]["config.yaml"]) == config
    for role in ("web", "worker"):
        deployment = one(docs, "Deployment", role)
        assert env(deployment)["EXPBRIDGE_CONFIG"]["value"] == "/etc/expbridge/config.yaml"
        mounts = {m["name"]: m for m in container(deployment)["volumeMounts"]}
        assert mounts["config"]["mountPath"] == "/etc/expbridge"
        volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}
        assert volumes["config"]["configMap"]["name"] == configmap["metadata"]["name"]
    # With no config the file is still mounted but the application is not pointed at it.
    assert "EXPBRIDGE_CONFIG" not in env(one(render(), "Deployment", "web"))


def _checksums(values: dict) -> dict[str, str]:
    docs = render(values)
    return {
        role: one(docs, "Deployment", role)["spec"]["template"]["metadata"]["annotations"][
            "checksum/config"
        ]
        for role in ("web", "worker")
    }


def test_checksum_config_rolls_pods_only_when_config_changes() -> None:
    before = _checksums({"config": {"targets": {"a": {"provider": "qonversion"}}}})
    after = _checksums({"config": {"targets": {"b": {"provider": "qonversion"}}}})
    unrelated = _checksums(
        {"config": {"targets": {"a": {"provider": "qonversion"}}}, "web": {"replicaCount": 5}}
    )
    for role in ("web", "worker"):
        assert len(before[role]) == 64  # sha256 hex of the rendered ConfigMap
        assert before[role] != after[role]
        assert before[role] == unrelated[role]
    assert _checksums({}) != before


SECRETS = {
    "adminToken": "admin-SENTINEL-1",
    "sources": {"growth": {"token": "tok-SENTINEL-2"}, "hooks": {"webhook_secret": "whsec_S3"}},
    "qonversionSecretKey": "sk_SENTINEL-4",
    "convertAppId": "app-SENTINEL-5",
    "convertAppSecret": "secret-SENTINEL-6",
    "redisPassword": "redis-SENTINEL-7",
    "slackSigningSecret": "slack-SENTINEL-8",
    "metricsToken": "metrics-SENTINEL-9",
}
SECRET_STRINGS = [
    "SENTINEL-1",
    "SENTINEL-2",
    "whsec_S3",
    "SENTINEL-4",
    "SENTINEL-5",
    "SENTINEL-6",
    "SENTINEL-8",
    "SENTINEL-9",
]


def test_secret_values_reach_pods_only_through_the_secret() -> None:
    values = {"secrets": SECRETS, "config": {"targets": {"t": {"provider": "qonversion"}}}}
    templates = render_templates(values)
    for path, text in templates.items():
        if not path.endswith("secret.yaml"):
            for needle in [*SECRET_STRINGS, "SENTINEL-7"]:
                assert needle not in text, f"{needle} leaked into {path}"
    docs = render(values)
    secret = one(docs, "Secret")
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert json.loads(decoded["sources-json"]) == SECRETS["sources"]
    assert decoded["admin-token"] == SECRETS["adminToken"]
    assert decoded["redis-password"] == SECRETS["redisPassword"]
    assert decoded["slack-signing-secret"] == SECRETS["slackSigningSecret"]
    for role in ("web", "worker"):
        variables = env(one(docs, "Deployment", role))
        for name in ("EXPBRIDGE_SOURCES", "EXPBRIDGE_ADMIN_TOKEN", "EXPBRIDGE_REDIS_PASSWORD"):
            ref = variables[name]["valueFrom"]["secretKeyRef"]
            assert ref["name"] == secret["metadata"]["name"]
            assert "value" not in variables[name]


def test_existing_secret_is_used_and_no_secret_is_created() -> None:
    docs = render({"existingSecret": "my-creds"})
    assert of_kind(docs, "Secret") == []
    variables = env(one(docs, "Deployment", "worker"))
    refs = {
        name: item["valueFrom"]["secretKeyRef"]
        for name, item in variables.items()
        if "valueFrom" in item
    }
    assert {ref["name"] for ref in refs.values()} == {"my-creds"}
    assert refs["EXPBRIDGE_SOURCES"]["key"] == "sources-json"
    assert refs["EXPBRIDGE_QONVERSION__SECRET_KEY"]["key"] == "qonversion-secret-key"
    assert refs["EXPBRIDGE_CONVERT__APP_SECRET"]["key"] == "convert-app-secret"
    assert refs["EXPBRIDGE_SLACK__SIGNING_SECRET"]["key"] == "slack-signing-secret"
    assert refs["EXPBRIDGE_METRICS_TOKEN"]["key"] == "metrics-token"
    assert all(ref["optional"] is True for ref in refs.values())


@pytest.mark.parametrize(
    ("wait", "grace", "expected"), [(25, None, 40), (60, None, 75), (25, 26, 26)]
)
def test_worker_grace_period_outlasts_the_shutdown_wait(
    wait: int, grace: int | None, expected: int
) -> None:
    docs = render({"worker": {"shutdownWaitSeconds": wait, "terminationGracePeriodSeconds": grace}})
    worker = one(docs, "Deployment", "worker")
    assert pod_spec(worker)["terminationGracePeriodSeconds"] == expected
    assert expected > wait
    assert env(worker)["EXPBRIDGE_WORKER__SHUTDOWN_WAIT_S"]["value"] == str(wait)


def test_default_mode_bundles_a_persistent_redis() -> None:
    docs = render()
    redis = one(docs, "StatefulSet", "redis")
    script = " ".join(container(redis)["args"])
    assert "--appendonly yes" in script
    claims = redis["spec"]["volumeClaimTemplates"]
    assert claims[0]["spec"]["resources"]["requests"]["storage"] == "2Gi"
    mounts = {m["name"]: m["mountPath"] for m in container(redis)["volumeMounts"]}
    assert mounts[claims[0]["metadata"]["name"]] == "/data"
    assert container(redis)["readinessProbe"] and container(redis)["livenessProbe"]
    assert pod_spec(redis)["securityContext"]["runAsUser"] != 0
    services = {s["metadata"]["name"] for s in of_kind(docs, "Service", "redis")}
    assert redis["spec"]["serviceName"] in services
    url = env(one(docs, "Deployment", "worker"))["EXPBRIDGE_REDIS_URL"]["value"]
    assert url == f"redis://{RELEASE}-expbridge-redis:6379/0"
    assert f"{RELEASE}-expbridge-redis" in services


def test_production_mode_uses_sentinel_existing_secret_hpa_and_ingress() -> None:
    values = production_values()
    docs = render(values)
    assert of_kind(docs, "StatefulSet") == [] and of_kind(docs, "Secret") == []
    for role, replicas in (("web", 3), ("worker", 4)):
        deployment = one(docs, "Deployment", role)
        variables = env(deployment)
        assert variables["EXPBRIDGE_REDIS_SENTINELS"]["value"] == ",".join(
            values["redis"]["external"]["sentinels"]
        )
        assert variables["EXPBRIDGE_REDIS_SENTINEL_MASTER"]["value"] == "mymaster"
        assert "EXPBRIDGE_REDIS_URL" not in variables
        password = variables["EXPBRIDGE_REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {
            "name": "expbridge-credentials",
            "key": "redis-password",
            "optional": True,
        }
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
        hpa = one(docs, "HorizontalPodAutoscaler", role)
        assert hpa["spec"]["minReplicas"] == replicas
        assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
        assert one(docs, "PodDisruptionBudget", role)["spec"]["minAvailable"] < replicas
    ingress = one(docs, "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == one(docs, "Service", "web")["metadata"]["name"]


def test_external_redis_url_mode() -> None:
    url = "rediss://redis.example:6380/2"
    docs = render({"redis": {"bundled": {"enabled": False}, "external": {"url": url}}})
    assert of_kind(docs, "StatefulSet") == []
    assert env(one(docs, "Deployment", "web"))["EXPBRIDGE_REDIS_URL"]["value"] == url
    assert "EXPBRIDGE_REDIS_SENTINELS" not in env(one(docs, "Deployment", "web"))


def test_notes_warn_when_no_sources_are_configured() -> None:
    notes = render_templates()["expbridge/templates/NOTES.txt"]
    assert "WARNING: no sources" in notes
    configured = render_templates({"secrets": {"sources": {"a": {"token": "t"}}}})
    assert "WARNING: no sources" not in configured["expbridge/templates/NOTES.txt"]
