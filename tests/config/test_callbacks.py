"""Callback subscriptions in settings and the YAML file: bad ones stop start-up, naming why."""

from __future__ import annotations

import pytest

from expbridge.config.loading import ConfigError, load_settings

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def sources(**growth: object) -> str:
    import json

    return json.dumps({"growth": {"token": "tok_growth_0123456789", **growth}})


def test_one_url_in_settings_is_the_default_subscription() -> None:
    settings = load_settings(
        sources=sources(callback_url="https://hooks.example.com/x", callback_secret=SECRET)
    )
    [subscription] = settings.sources["growth"].subscriptions
    assert subscription.name == "default" and subscription.url == "https://hooks.example.com/x"
    assert subscription.outcomes == ["succeeded", "dead"]
    assert SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("growth", "message"),
    [
        ({"callback_url": "https://hooks.example.com/x"}, "go together"),
        ({"callbacks": [{"url": "https://h.example.com", "secrets": ["nope"]}]}, "whsec_"),
        ({"callbacks": [{"url": "ftp://h.example.com", "secrets": [SECRET]}]}, "https://"),
        ({"callbacks": [{"url": "https://u:p@h.example.com", "secrets": [SECRET]}]}, "user info"),
        ({"callbacks": [{"url": "https://h.example.com", "secrets": []}]}, "at least 1"),
        (
            {
                "callbacks": [
                    {"url": "https://h.example.com", "secrets": [SECRET], "outcomes": ["finished"]}
                ]
            },
            "succeeded",
        ),
        (
            {
                "callbacks": [
                    {"url": "https://a.example.com", "secrets": [SECRET]},
                    {"url": "https://b.example.com", "secrets": [SECRET]},
                ]
            },
            "unique",
        ),
    ],
)
def test_bad_subscriptions_stop_start_up(growth: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match="EXPBRIDGE_SOURCES") as error:
        load_settings(sources=sources(**growth))
    assert message in str(error.value)
    assert SECRET not in str(error.value)
