"""The ingress application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from expbridge.config.file import FileConfig
from expbridge.config.settings import Settings
from expbridge.events.callbacks import Callbacks
from expbridge.events.catalog import CATALOG
from expbridge.events.rules.evaluation_log import RuleLog
from expbridge.events.slack_posts import SlackPoster
from expbridge.events.store.acceptor import Acceptor
from expbridge.events.store.approvals import ApprovalBook
from expbridge.events.store.cancel import Canceller
from expbridge.events.store.connection import create_redis
from expbridge.events.store.records import EventStore
from expbridge.events.store.replay import Replayer
from expbridge.events.target_refs import config_aliases
from expbridge.service import app_keys as keys
from expbridge.service.auth import Authenticator
from expbridge.service.chatops import interactions as routes_interactions
from expbridge.service.chatops import routes as routes_chatops
from expbridge.service.chatops.verify import SlackVerifier
from expbridge.service.console.app import CONSOLE_PREFIX, create_console
from expbridge.service.metrics import IngressMetrics
from expbridge.service.request_log import request_middleware
from expbridge.service.routes import accept as routes_accept
from expbridge.service.routes import admin as routes_admin
from expbridge.service.routes import docs as routes_docs
from expbridge.service.routes import events as routes_events
from expbridge.service.routes import health as routes_health
from expbridge.service.routes import metrics as routes_metrics
from expbridge.service.routes import rules as routes_rules
from expbridge.service.routes.docs import build_openapi_document


async def redis_context(app: web.Application) -> AsyncIterator[None]:
    redis = await create_redis(app[keys.SETTINGS])
    app[keys.REDIS] = redis
    app[keys.STORE] = EventStore(redis)
    app[keys.ACCEPTOR] = Acceptor(redis, app[keys.SETTINGS])
    settings = app[keys.SETTINGS]
    app[keys.REPLAYER] = Replayer(redis, settings.queue_name, settings.job_expiry_ms)
    app[keys.CANCELLER] = Canceller(
        redis, settings, Callbacks(app[keys.ACCEPTOR], settings.sources)
    )
    app[keys.RULE_LOG] = RuleLog(redis, settings.rules.evaluations_kept)
    secret = settings.slack.signing_secret
    app[keys.SLACK_VERIFIER] = SlackVerifier(secret.get_secret_value(), redis) if secret else None
    app[keys.APPROVALS] = ApprovalBook(redis, settings, app[keys.ACCEPTOR])
    app[keys.ACCEPT] = routes_accept.AcceptRoute(app)
    app[keys.DIRECT_ROUTES] = routes_accept.direct_routes(app)
    yield
    await app[keys.ACCEPTOR].close()
    await redis.aclose()


async def slack_poster_context(app: web.Application) -> AsyncIterator[None]:
    """Posts to Slack (approval decisions); the ones under way finish before shutdown."""
    session = aiohttp.ClientSession()
    app[keys.SLACK_POSTER] = SlackPoster(session, app[keys.SETTINGS].slack)
    yield
    await app[keys.SLACK_POSTER].drain()
    await session.close()


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
    app.cleanup_ctx.append(slack_poster_context)
    app.on_startup.append(build_openapi_document)
    app.add_routes(routes_health.routes)
    app.add_routes(routes_accept.routes)
    app.add_routes(routes_events.routes)
    app.add_routes(routes_admin.routes)
    app.add_routes(routes_metrics.routes)
    app.add_routes(routes_docs.routes)
    app.add_routes(routes_chatops.routes)
    app.add_routes(routes_interactions.routes)
    app.add_routes(routes_rules.routes)
    app.add_subapp(CONSOLE_PREFIX, create_console((file_config or FileConfig()).rules))
    return app
