"""A producer (a source): how it authenticates to the ingress, and where its outcome callbacks
go (EXPBRIDGE_SOURCES, or `sources:` in the config file)."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from expbridge.config.callbacks import CallbackSubscription, check_destination_url


class SourceCredentials(BaseModel):
    """How one producer (a source) authenticates to the ingress."""

    token: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    # Outcome callbacks to this source: a list, or for one URL the two fields below (the
    # subscription "default", for succeeded and dead events).
    callbacks: list[CallbackSubscription] = Field(default_factory=list, max_length=10)
    callback_url: str | None = None
    callback_secret: SecretStr | None = None

    @field_validator("callback_url")
    @classmethod
    def _callback_destination(cls, value: str | None) -> str | None:
        return None if value is None else check_destination_url(value)

    @property
    def subscriptions(self) -> list[CallbackSubscription]:
        if self.callback_url is None or self.callback_secret is None:
            return self.callbacks
        one = CallbackSubscription(url=self.callback_url, secrets=[self.callback_secret])
        return [one, *self.callbacks]

    @model_validator(mode="after")
    def _needs_one(self) -> SourceCredentials:
        if self.token is None and self.webhook_secret is None:
            raise ValueError("a source needs a token or a webhook_secret")
        if (
            self.webhook_secret is not None
            and not self.webhook_secret.get_secret_value().startswith("whsec_")
        ):
            raise ValueError("webhook_secret must start with whsec_")
        if (self.callback_url is None) != (self.callback_secret is None):
            raise ValueError("callback_url and callback_secret go together")
        names = [subscription.name for subscription in self.subscriptions]
        if len(names) != len(set(names)):
            raise ValueError("callback subscription names must be unique within a source")
        return self
