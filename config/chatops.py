"""ChatOps (Slack): the settings (environment) and the permissions (YAML file), and where the
bridge may post (Slack's hosts by default: a response_url anywhere else is refused)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode
from yarl import URL

SLACK_HOSTS = ("hooks.slack.com",)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# `help` needs no permission; `scheduled` needs the one of `status`.
PERMISSION_OF = {"scheduled": "status"}
ANYONE = "*"


def refusal_for_url(url: str, allowed_hosts: list[str]) -> str | None:
    """Why the bridge must not post to `url`, or None. https only (plain http on loopback, for
    local stand-ins), and the host must be one of `allowed_hosts`."""
    try:
        parsed = URL(url)
        host = (parsed.host or "").lower()
        port = parsed.port  # raises ValueError for a port outside 0-65535
    except (ValueError, TypeError):
        return "not a URL"
    if not parsed.is_absolute() or not host:
        return "not a URL"
    if parsed.user is not None or parsed.password is not None:
        return "a URL with user info is refused"
    scheme = parsed.scheme
    if scheme != "https" and not (scheme == "http" and host in LOOPBACK_HOSTS):
        return f"scheme {scheme or 'none'} is not https"
    # Loopback stand-ins (tests, local runs) listen on any port; Slack only on the default.
    if not parsed.is_default_port() and host not in LOOPBACK_HOSTS:
        return f"port {port} is not the default port of {scheme}"
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
    # How long a command that needs approval waits for a decision (then nothing is queued).
    approval_ttl_s: float = Field(24 * 3600.0, gt=0, le=30 * 24 * 3600)

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
    channel (or lists none, or "*") and the command (or "*"). `approval: required`: such a
    command waits for another person's Approve (one of `approvers`, default: anyone else this
    entry or another allows the command)."""

    model_config = ConfigDict(extra="forbid")

    users: list[str] = Field(min_length=1)
    channels: list[str] = Field(default_factory=list)
    commands: list[Literal["start", "pause", "stop", "status", "cancel", "*"]] = Field(min_length=1)
    approval: Literal["required"] | None = None
    approvers: list[str] = Field(default_factory=list)

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
        command = PERMISSION_OF.get(command, command)
        return any(p.allows(user, channel, command) for p in self.permissions)

    def approval_for(self, user: str, channel: str, command: str) -> list[str] | None:
        """None when `user` may run `command` without approval; else who may approve it (an
        empty list: anyone else allowed the command here). No entry without approval allows
        it, so at least one with `approval: required` does."""
        allowing = [p for p in self.permissions if p.allows(user, channel, command)]
        if not allowing or any(p.approval is None for p in allowing):
            return None
        return sorted({approver for p in allowing for approver in p.approvers})

    def may_approve(
        self, user: str, channel: str, command: str, requester: str, approvers: list[str]
    ) -> bool:
        if user == requester:
            return False
        if approvers:
            return user in approvers or ANYONE in approvers
        return self.allows(user, channel, command)


class ChatOpsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slack: SlackChatOps = Field(default_factory=SlackChatOps)
