"""The sandbox in the chart: deployed exactly when no provider credentials are given, reachable
where the workers look for it, or the render fails naming the Secret keys; never in production."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
from yarl import URL

from expbridge.cli.redis_server import free_port
from tests.deploy.chart import (
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

EXPBRIDGE = str(Path(sys.executable).parent / "expbridge")
SANDBOX_DEPLOYED: dict[str, tuple[dict[str, Any], bool]] = {
    "default": ({}, True),
    "evaluation": (evaluation_values(), True),
    "production": (production_values(), False),
    "production, sandbox left unset": (production_values(sandbox={"enabled": None}), False),
    "a qonversion key": ({"secrets": {"qonversionSecretKey": "sk_live"}}, False),
    "convert keys": ({"secrets": {"convertAppId": "1", "convertAppSecret": "s"}}, False),
    "an existing secret": ({"existingSecret": "creds"}, False),
    "forced on beside keys": (
        {"secrets": {"qonversionSecretKey": "sk_live"}, "sandbox": {"enabled": True}},
        True,
    ),
}


@pytest.mark.parametrize("case", SANDBOX_DEPLOYED)
def test_the_sandbox_is_deployed_only_without_provider_credentials(case: str) -> None:
    values, deployed = SANDBOX_DEPLOYED[case]
    docs = render(values)
    assert len(of_kind(docs, "Deployment", "sandbox")) == int(deployed)
    assert len(of_kind(docs, "Service", "sandbox")) == int(deployed)
    for role in ("web", "worker"):
        assert ("EXPBRIDGE_SANDBOX_URL" in env(one(docs, "Deployment", role))) is deployed


def test_the_evaluation_install_reaches_its_sandbox() -> None:
    docs = render(evaluation_values())
    deployment, service = one(docs, "Deployment", "sandbox"), one(docs, "Service", "sandbox")
    url = URL(env(one(docs, "Deployment", "worker"))["EXPBRIDGE_SANDBOX_URL"]["value"])
    # The workers' URL names the Service and its port ...
    assert (url.scheme, url.host, url.port) == ("http", service["metadata"]["name"], 8090)
    (port,) = service["spec"]["ports"]
    assert port["port"] == url.port
    # ... the Service selects the sandbox pods and targets the port their container listens on.
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    worker_labels = one(docs, "Deployment", "worker")["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= worker_labels.items()
    box = container(deployment)
    (named,) = [p for p in box["ports"] if p["name"] == port["targetPort"]]
    assert box["args"][:2] == ["sandbox", "--host=0.0.0.0"]
    assert f"--port={named['containerPort']}" in box["args"]
    assert box["image"] == container(one(docs, "Deployment", "worker"))["image"]
    assert pod_spec(deployment)["securityContext"]["runAsNonRoot"] is True


def test_the_rendered_sandbox_command_serves_the_notes_first_event(tmp_path: Path) -> None:
    """Run the sandbox container's command for real (on loopback and a free port) and ask it
    what its readiness probe asks, and for the experiment the NOTES' first event acts on."""
    values = evaluation_values()
    box = container(one(render(values), "Deployment", "sandbox"))
    port = free_port()
    # Loopback and a free port instead of the pod's 0.0.0.0:8090; everything else as rendered.
    args = [
        "--host=127.0.0.1"
        if arg.startswith("--host=")
        else f"--port={port}"
        if arg.startswith("--port=")
        else arg
        for arg in box["args"]
    ]
    assert args != box["args"] and box["command"] == ["expbridge"]
    log = tmp_path / "sandbox.log"
    with log.open("wb") as out:
        process = subprocess.Popen([EXPBRIDGE, *args], stdout=out, stderr=subprocess.STDOUT)
    try:
        probe = box["readinessProbe"]["httpGet"]["path"]
        state = _get_when_up(f"http://127.0.0.1:{port}{probe}", process, log)
        assert "exp_demo" in state
    finally:
        process.terminate()
        process.wait(timeout=10)
    notes = render_templates(values)["expbridge/templates/NOTES.txt"]
    assert '"experiment_id": "exp_demo"' in notes
    assert "WARNING: no sources" not in notes


def _get_when_up(url: str, process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                body: str = response.read().decode()
                return body
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered: {log.read_text()}")


def test_no_sandbox_and_no_credentials_fails_naming_the_secret_keys() -> None:
    with pytest.raises(helm.HelmRenderError) as failure:
        render({"sandbox": {"enabled": False}})
    message = str(failure.value)
    for key in ("qonversion-secret-key", "convert-app-id", "convert-app-secret"):
        assert key in message
    assert "secrets.qonversionSecretKey" in message and "existingSecret" in message


def test_production_values_never_deploy_the_sandbox() -> None:
    values = production_values()
    assert values["sandbox"]["enabled"] is False
    templates = render_templates(values)
    assert not any("sandbox" in path for path, text in templates.items() if text.strip())
    assert "EXPBRIDGE_SANDBOX_URL" not in "".join(templates.values())
