"""Run the sandbox as a real HTTP server on loopback."""

import ipaddress
from types import TracebackType
from typing import Self

from aiohttp import web

from expbridge.sandbox.app import create_sandbox_app
from expbridge.sandbox.config import SandboxConfig

# Handlers may be sleeping in a delay fault; closing should not wait for them for long.
SHUTDOWN_TIMEOUT_S = 1.0


class SandboxServer:
    def __init__(self, app: web.Application, runner: web.AppRunner, url: str) -> None:
        self.app = app
        self.url = url
        self._runner = runner

    async def close(self) -> None:
        await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def start_sandbox(
    config: SandboxConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    allow_remote: bool = False,
) -> SandboxServer:
    """Serve the sandbox; port 0 picks a free port. The control plane has no auth, so
    binding beyond loopback needs `allow_remote=True`."""
    if not allow_remote and not _is_loopback(host):
        raise ValueError(f"the sandbox listens on loopback only, not {host!r}")
    app = create_sandbox_app(config)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return SandboxServer(app, runner, f"http://{shown}:{bound_port}")
