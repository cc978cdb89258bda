"""Outcome callbacks: which producers get signed webhooks, for which outcomes, and the limits
every delivery keeps (EXPBRIDGE_CALLBACKS__*). See docs/callbacks.md."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from yarl import URL

# What a source may subscribe to: its events ending, a rule deciding, a scheduled event due.
CallbackOutcome = Literal["succeeded", "dead", "cancelled", "rule.fired", "rule.srm", "due"]
ALL_OUTCOMES: tuple[CallbackOutcome, ...] = (
    "succeeded",
    "dead",
    "cancelled",
    "rule.fired",
    "rule.srm",
    "due",
)
DEFAULT_OUTCOMES: tuple[CallbackOutcome, ...] = ("succeeded", "dead")
SubscriptionName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")]


def check_destination_url(value: str) -> str:
    """https, or http (allowed only for loopback receivers, checked again at each attempt)."""
    try:
        url = URL(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"not a URL: {error}") from None
    if url.scheme not in ("https", "http") or not url.host:
        raise ValueError("must be an https:// URL (http:// only for loopback receivers)")
    if url.user is not None or url.password is not None:
        raise ValueError("must not carry user info")
    if url.fragment:
        raise ValueError("must not have a fragment")
    return value


class CallbackSubscription(BaseModel):
    """One destination of a source's outcome callbacks."""

    model_config = ConfigDict(extra="forbid")

    name: SubscriptionName = "default"
    url: str
    # Every secret signs each callback (webhook-signature lists one v1 signature per secret),
    # so a receiver that knows any of them verifies: add the new secret, move receivers over,
    # then drop the old one.
    secrets: list[SecretStr] = Field(min_length=1, max_length=5)
    outcomes: list[CallbackOutcome] = Field(default_factory=lambda: list(DEFAULT_OUTCOMES))

    _url = field_validator("url")(check_destination_url)

    @field_validator("secrets")
    @classmethod
    def _whsec(cls, secrets: list[SecretStr]) -> list[SecretStr]:
        for secret in secrets:
            if not secret.get_secret_value().startswith("whsec_"):
                raise ValueError("each secret must start with whsec_")
        return secrets


class CallbackSettings(BaseModel):
    """EXPBRIDGE_CALLBACKS__*: limits of every callback delivery."""

    # Loopback receivers (and plain http to them): for local development and tests only.
    allow_loopback: bool = False
    timeout_s: float = Field(5.0, gt=0, le=60)
    connect_timeout_s: float = Field(2.0, gt=0, le=30)
    # How much of a receiver's answer is kept in the callback's record.
    response_chars_kept: int = Field(256, ge=0, le=4096)
