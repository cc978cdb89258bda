"""Who is calling: a source by bearer token or Standard Webhooks signature, or the admin."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import NamedTuple

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from expbridge.config.settings import Settings
from expbridge.config.sources import SourceCredentials
from expbridge.service.problems import Problem

WEBHOOK_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class Caller(NamedTuple):
    """An authenticated source; `signed_id` is the webhook-id its signature covers, if any."""

    source: str
    signed_id: str | None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def unauthorized(detail: str) -> Problem:
    return Problem(
        401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="expbridge"'}
    )


class Authenticator:
    def __init__(self, settings: Settings) -> None:
        # Compare digests, so every token check costs the same whatever it matches.
        self._by_token: dict[bytes, str] = {}
        self._webhooks: dict[str, Webhook] = {}
        for name, creds in settings.sources.items():
            self._add_source(name, creds)
        admin = settings.admin_token
        self._admin_digest = _digest(admin.get_secret_value()) if admin else None

    def _add_source(self, name: str, creds: SourceCredentials) -> None:
        if creds.token is not None:
            self._by_token[_digest(creds.token.get_secret_value())] = name
        if creds.webhook_secret is not None:
            self._webhooks[name] = Webhook(creds.webhook_secret.get_secret_value())

    @staticmethod
    def bearer(request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    @property
    def has_admin(self) -> bool:
        return self._admin_digest is not None

    def is_admin_token(self, token: str | None) -> bool:
        if token is None or self._admin_digest is None:
            return False
        return hmac.compare_digest(_digest(token), self._admin_digest)

    def is_admin(self, request: web.Request) -> bool:
        return self.is_admin_token(self.bearer(request))

    def require_admin(self, request: web.Request) -> None:
        if self._admin_digest is None:
            raise Problem(
                403, "Forbidden", "admin endpoints are closed: EXPBRIDGE_ADMIN_TOKEN is unset"
            )
        if not self.is_admin(request):
            raise unauthorized("this endpoint needs the admin bearer token")

    def source_by_token(self, request: web.Request) -> str | None:
        token = self.bearer(request)
        if token is None:
            return None
        return self._by_token.get(_digest(token))

    def has_webhook_headers(self, headers: Mapping[str, str]) -> bool:
        return all(name in headers for name in WEBHOOK_HEADERS)

    def source_by_signature(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """Standard Webhooks: the signature of one of the sources' secrets, within ±5 minutes."""
        wanted = {name: headers[name] for name in WEBHOOK_HEADERS}
        for name, webhook in self._webhooks.items():
            try:
                webhook.verify(body, wanted, json_parse=False)
            except (WebhookVerificationError, ValueError):  # ValueError: malformed header or body
                continue
            return name
        return None

    def authenticate(self, request: web.Request, body: bytes) -> Caller:
        token = self.bearer(request)
        if token is not None:
            source = self._by_token.get(_digest(token))
            if source is None:
                raise unauthorized("the bearer token does not belong to any source")
            return Caller(source, signed_id=None)
        if self.has_webhook_headers(request.headers):
            source = self.source_by_signature(request.headers, body)
            if source is None:
                raise unauthorized("the webhook signature is invalid or its timestamp is stale")
            return Caller(source, signed_id=request.headers["webhook-id"])
        raise unauthorized("send Authorization: Bearer <source token> or a webhook signature")
