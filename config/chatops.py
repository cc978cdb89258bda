"""ChatOps (Slack): the settings (environment) and the permissions (YAML file), and where the
bridge may post (Slack's hosts by default: a response_url anywhere else is refused)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

SLACK_HOSTS = ("hooks.slack.com",)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# What `/exp <command>` may be; `help` needs no permission.
SlackCommand = Literal["start", "pause", "stop", "status", "help"]
GUARDED_COMMANDS: tuple[str, ...] = ("start", "pause", "stop", "status")
ANYONE = "*"


def refusal_for_url(url: str, allowed_hosts: list[str]) -> str | None:
    """Why the bridge must not post to `url`, or None. https only (plain http on loopback, for
    local stand-ins), and the host must be one of `allowed_hosts`."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "not a URL"
    if not host:
        return "not a URL"
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return f"scheme {parts.scheme or 'none'} is not https"
    if host not in {h.lower() for h in allowed_hosts}:
        return f"host {host} is not in EXPBRIDGE_SLACK__ALLOWED_HOSTS"
    return None


class SlackSettings(BaseModel):
    """EXPBRIDGE_SLACK__*: unset signing_secret → POST /v1/chatops/slack answers 404."""

    signing_secret: SecretStr | None = None
    # Hosts the bridge posts to (response_url, incoming webhooks): a comma list or JSON list.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=lambda: [*SLACK_HOSTS])
    # Incoming webhook for rules' `notify` actions that name no webhook of their own.
    notify_webhook_url: str | None = None
    # Incoming webhook told about every event that ends dead.
    dead_letter_webhook_url: str | None = None
    post_timeout_s: float = Field(3.0, gt=0, le=30)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _webhooks_allowed(self) -> SlackSettings:
        for name in ("notify_webhook_url", "dead_letter_webhook_url"):
            url = getattr(self, name)
            reason = refusal_for_url(url, self.allowed_hosts) if url else None
            if reason is not None:
                raise ValueError(f"{name}: {reason}")
        return self

    def refusal_for(self, url: str) -> str | None:
        return refusal_for_url(url, self.allowed_hosts)


class SlackPermission(BaseModel):
    """Who may run what: a command is allowed when one entry names the user (or "*"), the
    channel (or lists none, or "*") and the command (or "*")."""

    model_config = ConfigDict(extra="forbid")

    users: list[str] = Field(min_length=1)
    channels: list[str] = Field(default_factory=list)
    commands: list[Literal["start", "pause", "stop", "status", "*"]] = Field(min_length=1)

    def allows(self, user: str, channel: str, command: str) -> bool:
        return (
            (ANYONE in self.users or user in self.users)
            and (not self.channels or ANYONE in self.channels or channel in self.channels)
            and (ANYONE in self.commands or command in self.commands)
        )


class SlackChatOps(BaseModel):
    model_config = ConfigDict(extra="forbid")

    permissions: list[SlackPermission] = Field(default_factory=list)

    def allows(self, user: str, channel: str, command: str) -> bool:
        if command == "help":
            return True
        return any(p.allows(user, channel, command) for p in self.permissions)


class ChatOpsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slack: SlackChatOps = Field(default_factory=SlackChatOps)
