"""The sandbox application: both simulated providers and the control plane."""

from aiohttp import web

from expbridge.sandbox.app_keys import CONFIG, CONVERT, FAULTS, IDEMPOTENCY, QONVERSION, REQUEST_LOG
from expbridge.sandbox.config import SandboxConfig
from expbridge.sandbox.control.app import create_control_app
from expbridge.sandbox.convert.state import ConvertState
from expbridge.sandbox.convert.v1_app import create_convert_v1_app
from expbridge.sandbox.convert.v2_app import create_convert_v2_app
from expbridge.sandbox.faults import FaultBook
from expbridge.sandbox.idempotency import IdempotencyStore
from expbridge.sandbox.middlewares import inject_faults, record_requests
from expbridge.sandbox.qonversion.app import create_qonversion_app
from expbridge.sandbox.qonversion.state import QonversionState
from expbridge.sandbox.recorder import RequestLog

QONVERSION_PREFIX = "/qonversion/v4"
CONVERT_V1_PREFIX = "/convert/api/v1"
CONVERT_V2_PREFIX = "/convert/api/v2"
CONTROL_PREFIX = "/_sandbox"


def create_sandbox_app(config: SandboxConfig | None = None) -> web.Application:
    config = config or SandboxConfig()
    app = web.Application(middlewares=[record_requests, inject_faults])
    app[CONFIG] = config
    app[REQUEST_LOG] = RequestLog()
    app[FAULTS] = FaultBook(seed=config.seed)
    app[IDEMPOTENCY] = IdempotencyStore()
    app[QONVERSION] = QonversionState(seed=config.seed)
    # One account seen through both Convert API versions.
    app[CONVERT] = ConvertState(account_id=config.convert_account_id)
    app.add_subapp(QONVERSION_PREFIX, create_qonversion_app())
    app.add_subapp(CONVERT_V1_PREFIX, create_convert_v1_app())
    app.add_subapp(CONVERT_V2_PREFIX, create_convert_v2_app())
    app.add_subapp(CONTROL_PREFIX, create_control_app())
    return app
