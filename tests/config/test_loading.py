"""Invalid settings stop start-up with one line naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from expbridge.config.loading import ConfigError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("EXPBRIDGE_"):
            monkeypatch.delenv(name)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.uses_embedded_redis
    assert settings.qonversion_is_sandbox and settings.convert_is_sandbox
    assert settings.convert.resolved_base_url == "https://api.convert.com/api/v1"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"EXPBRIDGE_PORT": "eighty"}, "EXPBRIDGE_PORT"),
        ({"EXPBRIDGE_QONVERSION__SECRET_KEY": "pk_live_123"}, "EXPBRIDGE_QONVERSION__SECRET_KEY"),
        ({"EXPBRIDGE_CONVERT__API_VERSION": "v3"}, "EXPBRIDGE_CONVERT__API_VERSION"),
        ({"EXPBRIDGE_REDIS_URL": "http://localhost"}, "EXPBRIDGE_REDIS_URL"),
        ({"EXPBRIDGE_WORKER__POLL_DELAY_S": "-1"}, "EXPBRIDGE_WORKER__POLL_DELAY_S"),
        ({"EXPBRIDGE_SOURCES": '{"a": {}}'}, "EXPBRIDGE_SOURCES"),
        ({"EXPBRIDGE_SOURCES": "{not json"}, "EXPBRIDGE_SOURCES"),
    ],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert named in message
    assert "\n" not in message
    assert "pk_live_123" not in message


def test_public_bind_without_sources_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPBRIDGE_HOST", "0.0.0.0")
    reason = load_settings().unsafe_bind_reason()
    assert reason is not None and "unauthenticated" in reason
    monkeypatch.setenv("EXPBRIDGE_SOURCES", '{"growth": {"token": "t"}}')
    assert load_settings().unsafe_bind_reason() is None


def test_empty_sources_variable_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPBRIDGE_SOURCES", "")
    assert load_settings().sources == {}


def test_sources_and_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "EXPBRIDGE_SOURCES", '{"growth": {"token": "t1"}, "hooks": {"webhook_secret": "whsec_abc"}}'
    )
    monkeypatch.setenv("EXPBRIDGE_QONVERSION__SECRET_KEY", "test_sk_123")
    settings = load_settings()
    assert set(settings.sources) == {"growth", "hooks"}
    assert not settings.qonversion_is_sandbox
    assert "test_sk_123" not in repr(settings)


def test_config_file_adds_sources_and_reports_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("sources:\n  rules-engine:\n    token: abc\ntargets:\n  paywall: {}\n")
    assert "rules-engine" in load_settings(config=good).sources
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [1, 2]\n")
    with pytest.raises(ConfigError, match="EXPBRIDGE_CONFIG"):
        load_settings(config=bad)
    with pytest.raises(ConfigError, match="EXPBRIDGE_CONFIG"):
        load_settings(config=tmp_path / "missing.yaml")
