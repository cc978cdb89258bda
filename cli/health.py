"""`expbridge health`: the health check of the role a container runs, for every role.

One image runs four roles, and Docker's HEALTHCHECK cannot see which one the container was
started with. The container's main process can: `/proc/1/cmdline` is `… expbridge worker`, so
the check reads the role from there (or from `--role`, as the chart's probes pass it) and
checks what that role needs:

* `serve`   — the ingress answers `GET /readyz` (so Redis is reachable too);
* `worker`  — this host's worker refreshed its health key in Redis recently;
* `sandbox` — the sandbox answers `GET /_sandbox/state` on its port;
* `run`     — the all-in-one process's ingress answers `GET /readyz` (its worker runs in the
  same process, which exits when the worker stops).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from expbridge.config.settings import Settings

ROLES = ("serve", "worker", "sandbox", "run")
SANDBOX_DEFAULT_PORT = 8090
PROBE_TIMEOUT_S = 4.0


@dataclass(frozen=True)
class Role:
    name: str
    # The sandbox's --host and --port, when its command line gives them.
    host: str | None = None
    port: int | None = None


class RoleUnknownError(Exception):
    pass


def role_of_process(pid: int = 1) -> Role:
    """The role in a process's command line: the word after `expbridge` (`… expbridge worker`)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError as error:
        raise RoleUnknownError(f"cannot read the command line of process {pid}: {error}") from None
    args = [arg.decode(errors="replace") for arg in raw.split(b"\0") if arg]
    for index, arg in enumerate(args):
        if Path(arg).name == "expbridge" and index + 1 < len(args) and args[index + 1] in ROLES:
            options = args[index + 2 :]
            port = _option(options, "--port")
            return Role(args[index + 1], _option(options, "--host"), int(port) if port else None)
    raise RoleUnknownError(
        f"process {pid} is not an expbridge role ({' '.join(args) or 'no command line'}): "
        f"pass --role ({'|'.join(ROLES)})"
    )


def _option(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg.startswith(f"{name}="):
            return arg.removeprefix(f"{name}=")
        if arg == name and index + 1 < len(args):
            return args[index + 1]
    return None


def probe_host(bind_host: str) -> str:
    """Where to reach a server bound to `bind_host` from inside its own container."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(bind_host, bind_host)


def _base(bind_host: str, port: int) -> str:
    host = probe_host(bind_host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _answers(url: str) -> tuple[bool, str]:
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, allow_redirects=False) as response,
        ):
            return response.status == 200, f"GET {url}: {response.status}"
    except (aiohttp.ClientError, TimeoutError) as error:
        return False, f"GET {url}: {type(error).__name__}"


async def check(role: Role, settings: Settings) -> tuple[bool, str]:
    """(healthy, one line saying what was checked)."""
    if role.name in ("serve", "run"):
        return await _answers(f"{_base(settings.host, settings.port)}/readyz")
    if role.name == "sandbox":
        base = _base(role.host or "127.0.0.1", role.port or SANDBOX_DEFAULT_PORT)
        return await _answers(f"{base}/_sandbox/state")
    from expbridge.workers.health import worker_is_healthy  # only this role needs arq

    healthy = await worker_is_healthy(settings)
    return healthy, "worker healthy" if healthy else "no fresh worker health key in Redis"


def run_check(role: Role, settings: Settings) -> tuple[bool, str]:
    return asyncio.run(check(role, settings))
