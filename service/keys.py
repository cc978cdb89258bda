"""Typed application keys: everything the handlers share lives on the app, nothing in globals."""

from __future__ import annotations

from aiohttp import web
from arq.connections import ArqRedis

from config.settings import Settings
from events.replay import Replayer
from events.store import EventStore
from events.targets import QonversionTarget
from service.acceptor import Acceptor
from service.auth import Authenticator

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", ArqRedis)
STORE = web.AppKey("store", EventStore)
REPLAYER = web.AppKey("replayer", Replayer)
ACCEPTOR = web.AppKey("acceptor", Acceptor)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
TARGET_ALIASES: web.AppKey[dict[str, QonversionTarget]] = web.AppKey("target_aliases")
