"""The sandbox application: both simulated providers and the control plane."""

from aiohttp import web

from sandbox.config import SandboxConfig
from sandbox.control_app import create_control_app
from sandbox.convert_state import ConvertState
from sandbox.convert_v1_app import create_convert_v1_app
from sandbox.convert_v2_app import create_convert_v2_app
from sandbox.faults import FaultBook
from sandbox.idempotency import IdempotencyStore
from sandbox.keys import CONFIG, CONVERT, FAULTS, IDEMPOTENCY, QONVERSION, REQUEST_LOG
from sandbox.qonversion_app import create_qonversion_app
from sandbox.qonversion_state import QonversionState
from sandbox.recorder import RequestLog
from sandbox.root_middlewares import inject_faults, record_requests

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
