"""The provider clients a worker holds, built from settings (a sandbox when no credentials)."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import structlog

from config.settings import Settings
from workers.providers.http import UpstreamObserver
from workers.providers.qonversion import QonversionClient

SANDBOX_QONVERSION_KEY = "test_sk_sandbox"
log = structlog.get_logger("expbridge.worker")


@dataclass
class ProviderClients:
    qonversion: QonversionClient


def build_clients(
    settings: Settings,
    session: aiohttp.ClientSession,
    observer: UpstreamObserver | None = None,
) -> ProviderClients:
    timeout = settings.worker.upstream_timeout_s
    if settings.qonversion_is_sandbox:
        base_url = settings.sandbox_url.rstrip("/") + "/qonversion/v4"
        log.info("qonversion: no secret key set, using the sandbox", base_url=base_url)
        key = SANDBOX_QONVERSION_KEY
    else:
        assert settings.qonversion.secret_key is not None
        base_url = settings.qonversion.base_url
        key = settings.qonversion.secret_key.get_secret_value()
    return ProviderClients(
        qonversion=QonversionClient(session, base_url, key, timeout, observer=observer)
    )
