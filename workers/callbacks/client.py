"""Sending one callback: sign it per Standard Webhooks with every secret of its subscription,
POST it with short timeouts and no redirects, and classify the answer like an upstream's
(408/425/429/5xx and connection errors retry, honouring Retry-After; other answers are final)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
import structlog
from standardwebhooks.webhooks import Webhook
from yarl import URL

from expbridge.config import spans, tracing
from expbridge.config.settings import Settings
from expbridge.events.callbacks import CallbackData, destination
from expbridge.workers.callbacks.guard import (
    GuardedResolver,
    RefusedDestination,
    is_ip_literal,
    is_loopback_literal,
    refusal,
)
from expbridge.workers.providers.errors import (
    PermanentUpstreamError,
    TransientUpstreamError,
    error_for_status,
    parse_retry_after,
    redact_body,
)
from expbridge.workers.providers.http import Outcome

log = structlog.get_logger("expbridge.callbacks")
# (outcome: delivered, rejected, failed, refused; duration in s): e.g. metrics
CallbackObserver = Callable[[str, float], None]


class CallbackClient:
    def __init__(self, settings: Settings, observer: CallbackObserver | None = None) -> None:
        self.settings = settings
        self.limits = settings.callbacks
        self.observer = observer
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self.limits.allow_loopback), use_dns_cache=False
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(
                    total=self.limits.timeout_s, sock_connect=self.limits.connect_timeout_s
                ),
            )
        return self._session

    def _check(self, url: URL) -> None:
        """Refused before any connection: a scheme or an IP literal that is not allowed."""
        host = url.host or ""
        loopback_ok = self.limits.allow_loopback
        if url.scheme == "http":
            if not loopback_ok:
                raise RefusedDestination("plain http is refused (allow_loopback is off)")
            if host != "localhost" and not is_loopback_literal(host):
                raise RefusedDestination("plain http only goes to loopback receivers")
        if is_ip_literal(host):
            why = refusal(host.strip("[]"), loopback_ok)
            if why is not None:
                raise RefusedDestination(f"{host} is {why}")

    def secrets_of(self, data: CallbackData) -> list[str]:
        credentials = self.settings.sources.get(data.target.source)
        for subscription in credentials.subscriptions if credentials else []:
            if subscription.name == data.target.subscription:
                return [secret.get_secret_value() for secret in subscription.secrets]
        raise PermanentUpstreamError("callback", "the subscription is no longer configured")

    async def send(self, data: CallbackData) -> Outcome[dict[str, object]]:
        url = URL(data.url)
        provider = destination(data.url)
        try:
            self._check(url)
        except RefusedDestination as refused:
            self._observe("refused", time.perf_counter())
            raise PermanentUpstreamError(provider, f"destination refused: {refused}") from None
        body = json.dumps(data.cloudevent, separators=(",", ":")).encode()
        webhook_id = str(data.cloudevent["id"])
        now = datetime.now(UTC)
        text = body.decode()
        signatures = " ".join(Webhook(s).sign(webhook_id, now, text) for s in self.secrets_of(data))
        headers = {
            "Content-Type": "application/cloudevents+json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signatures,
            "User-Agent": "expbridge-callbacks",
        }
        with spans.client_span("POST", None, (url.host or "-", url.port), provider):
            return await self._post(url, provider, body, headers)

    async def _post(
        self, url: URL, provider: str, body: bytes, headers: dict[str, str]
    ) -> Outcome[dict[str, object]]:
        tracing.inject_headers(headers)  # traceparent: the receiver can join the event's trace
        started = time.perf_counter()
        try:
            async with self._open().post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                kept = await response.content.read(self.limits.response_chars_kept)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except RefusedDestination as refused:
            self._observe("refused", started)
            raise PermanentUpstreamError(provider, f"destination refused: {refused}") from None
        except TimeoutError as error:
            self._observe("failed", started)
            raise TransientUpstreamError(provider, "the receiver timed out") from error
        except aiohttp.ClientError as error:
            self._observe("failed", started)
            raise TransientUpstreamError(
                provider, f"connection failed: {type(error).__name__}"
            ) from error
        delivered = 200 <= status < 300
        retryable = status in (408, 425, 429) or status >= 500
        self._observe("delivered" if delivered else "failed" if retryable else "rejected", started)
        spans.current_outcome(delivered, None, **{"http.response.status_code": status})
        answer = redact_body(kept.decode(errors="replace")) or ""
        log.info(
            "callback attempt",
            destination=provider,
            upstream_status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        if delivered:
            return Outcome(status, {"status": status, "answer": answer})
        if 300 <= status < 400:
            raise PermanentUpstreamError(
                provider,
                f"the receiver redirected ({status}); callbacks never follow redirects",
                status=status,
            )
        raise error_for_status(
            provider,
            status,
            code=None,
            message=f"the receiver answered {status}",
            retry_after_s=retry_after,
            body=answer,
        )

    def _observe(self, outcome: str, started: float) -> None:
        if self.observer is not None:
            self.observer(outcome, time.perf_counter() - started)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
