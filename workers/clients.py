"""The provider clients a worker holds, built from settings (a sandbox when no credentials)."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import structlog

from expbridge.config.settings import Settings
from expbridge.workers.callbacks.client import CallbackClient, CallbackObserver
from expbridge.workers.providers.convert.client import ConvertClient
from expbridge.workers.providers.convert.routes import APIS
from expbridge.workers.providers.convert.signing import ConvertSigner
from expbridge.workers.providers.http import UpstreamObserver
from expbridge.workers.providers.qonversion.client import QonversionClient

SANDBOX_QONVERSION_KEY = "test_sk_sandbox"
# The sandbox's Convert account, reachable through both API versions.
SANDBOX_CONVERT_APP_ID = "sandbox-app"
SANDBOX_CONVERT_SECRET = "sandbox-secret"
SANDBOX_CONVERT_ACCOUNT = "1000"
log = structlog.get_logger("expbridge.worker")


@dataclass
class ProviderClients:
    qonversion: QonversionClient
    convert: ConvertClient
    # Outcome callbacks to producers (their own session: guarded resolver, no redirects).
    callbacks: CallbackClient


def build_clients(
    settings: Settings,
    session: aiohttp.ClientSession,
    observer: UpstreamObserver | None = None,
    callback_observer: CallbackObserver | None = None,
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
        qonversion=QonversionClient(session, base_url, key, timeout, observer=observer),
        convert=build_convert_client(settings, session, observer),
        callbacks=CallbackClient(settings, callback_observer),
    )


def build_convert_client(
    settings: Settings,
    session: aiohttp.ClientSession,
    observer: UpstreamObserver | None = None,
) -> ConvertClient:
    convert = settings.convert
    version = convert.api_version
    if settings.convert_is_sandbox:
        base_url = settings.sandbox_url.rstrip("/") + f"/convert/api/{version}"
        log.info("convert: no app id set, using the sandbox", base_url=base_url, version=version)
        app_id, secret = SANDBOX_CONVERT_APP_ID, SANDBOX_CONVERT_SECRET
        account_id: str | None = SANDBOX_CONVERT_ACCOUNT
    else:
        assert convert.app_id is not None and convert.app_secret is not None
        base_url = convert.resolved_base_url
        app_id, secret = convert.app_id, convert.app_secret.get_secret_value()
        account_id = convert.account_id
    return ConvertClient(
        session,
        APIS[version],
        base_url,
        ConvertSigner(app_id, secret),
        account_id=account_id,
        timeout_s=settings.worker.upstream_timeout_s,
        observer=observer,
    )
