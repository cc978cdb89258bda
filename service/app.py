"""The ingress application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from config.file import FileConfig
from config.settings import Settings
from events.acceptor import Acceptor
from events.catalog import CATALOG
from events.connection import create_redis
from events.replay import Replayer
from events.rule_log import RuleLog
from events.store import EventStore
from events.target_refs import config_aliases
from service import (
    keys,
    routes_admin,
    routes_chatops,
    routes_docs,
    routes_events,
    routes_health,
    routes_metrics,
    routes_rules,
)
from service.auth import Authenticator
from service.metrics import IngressMetrics
from service.request_log import request_middleware
from service.routes_docs import build_openapi_document
from service.slack import SlackVerifier


async def redis_context(app: web.Application) -> AsyncIterator[None]:
    redis = await create_redis(app[keys.SETTINGS])
    app[keys.REDIS] = redis
    app[keys.STORE] = EventStore(redis)
    app[keys.ACCEPTOR] = Acceptor(redis, app[keys.SETTINGS])
    settings = app[keys.SETTINGS]
    app[keys.REPLAYER] = Replayer(redis, settings.queue_name, settings.job_expiry_ms)
    app[keys.RULE_LOG] = RuleLog(redis, settings.rules.evaluations_kept)
    secret = settings.slack.signing_secret
    app[keys.SLACK_VERIFIER] = SlackVerifier(secret.get_secret_value(), redis) if secret else None
    yield
    await app[keys.ACCEPTOR].close()
    await redis.aclose()


def create_app(settings: Settings, file_config: FileConfig | None = None) -> web.Application:
    app = web.Application(
        middlewares=[request_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[keys.SETTINGS] = settings
    app[keys.AUTHENTICATOR] = Authenticator(settings)
    app[keys.TARGET_ALIASES] = config_aliases(file_config or FileConfig())
    app[keys.METRICS] = IngressMetrics(event_types=CATALOG)
    app[keys.CHATOPS] = (file_config or FileConfig()).chatops
    app.cleanup_ctx.append(redis_context)
    app.on_startup.append(build_openapi_document)
    app.add_routes(routes_health.routes)
    app.add_routes(routes_events.routes)
    app.add_routes(routes_admin.routes)
    app.add_routes(routes_metrics.routes)
    app.add_routes(routes_docs.routes)
    app.add_routes(routes_chatops.routes)
    app.add_routes(routes_rules.routes)
    return app
