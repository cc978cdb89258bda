"""Typed keys for everything the sandbox keeps on its application and requests."""

from aiohttp import web

from expbridge.sandbox.config import SandboxConfig
from expbridge.sandbox.convert.state import ConvertState
from expbridge.sandbox.faults import FaultBook
from expbridge.sandbox.idempotency import IdempotencyStore
from expbridge.sandbox.qonversion.state import QonversionState
from expbridge.sandbox.recorder import RequestLog, RequestRecord

CONFIG = web.AppKey("sandbox_config", SandboxConfig)
REQUEST_LOG = web.AppKey("sandbox_request_log", RequestLog)
FAULTS = web.AppKey("sandbox_faults", FaultBook)
IDEMPOTENCY = web.AppKey("sandbox_idempotency", IdempotencyStore)
QONVERSION = web.AppKey("sandbox_qonversion", QonversionState)
CONVERT = web.AppKey("sandbox_convert", ConvertState)

RECORD = web.RequestKey("sandbox_record", RequestRecord)
# Who is calling, as far as idempotency scoping is concerned (a key, or an app id).
CREDENTIAL = web.RequestKey("sandbox_credential", str)
