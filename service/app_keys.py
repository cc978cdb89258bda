"""Typed application keys: everything the handlers share lives on the app, nothing in globals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler
from arq.connections import ArqRedis

from expbridge.config.chatops import ChatOpsConfig
from expbridge.config.settings import Settings
from expbridge.events.rules.evaluation_log import RuleLog
from expbridge.events.slack_posts import SlackPoster
from expbridge.events.store.acceptor import Acceptor
from expbridge.events.store.approvals import ApprovalBook
from expbridge.events.store.cancel import Canceller
from expbridge.events.store.records import EventStore
from expbridge.events.store.replay import Replayer
from expbridge.events.targets import AnyTarget
from expbridge.service.auth import Authenticator
from expbridge.service.chatops.verify import SlackVerifier
from expbridge.service.metrics import IngressMetrics

if TYPE_CHECKING:  # the route reads its parts from these keys
    from expbridge.service.routes.accept import AcceptRoute

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", ArqRedis)
STORE = web.AppKey("store", EventStore)
REPLAYER = web.AppKey("replayer", Replayer)
CANCELLER = web.AppKey("canceller", Canceller)
ACCEPTOR = web.AppKey("acceptor", Acceptor)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
TARGET_ALIASES: web.AppKey[dict[str, AnyTarget]] = web.AppKey("target_aliases")
METRICS = web.AppKey("metrics", IngressMetrics)
OPENAPI_DOCUMENT: web.AppKey[dict[str, Any]] = web.AppKey("openapi_document")
DOCS_PAGE = web.AppKey("docs_page", bytes)
CHATOPS = web.AppKey("chatops", ChatOpsConfig)
# None while EXPBRIDGE_SLACK__SIGNING_SECRET is unset (the Slack route answers 404).
SLACK_VERIFIER: web.AppKey[SlackVerifier | None] = web.AppKey("slack_verifier")
RULE_LOG = web.AppKey("rule_log", RuleLog)
APPROVALS = web.AppKey("approvals", ApprovalBook)
SLACK_POSTER = web.AppKey("slack_poster", SlackPoster)
ACCEPT: web.AppKey[AcceptRoute] = web.AppKey("accept")
# Routes the server hands their requests straight, by (method, path): they do the
# middleware's work themselves (service/http_server.py, service/routes/accept.py).
DIRECT_ROUTES: web.AppKey[dict[tuple[str, str], Handler]] = web.AppKey("direct_routes")
