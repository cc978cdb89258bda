"""Injected faults: status (with/without Retry-After), custom bodies, delay, drop, count,
probability, and a lost answer after the upstream changed its state."""

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from expbridge.sandbox.config import SandboxConfig
from expbridge.sandbox.runner import SandboxServer, start_sandbox
from tests.sandbox.calls import Convert, Qonversion, control

EXPERIMENTS = "/qonversion/v4/experiments"


async def _fault(session: aiohttp.ClientSession, server: SandboxServer, **rule: Any) -> int:
    reply = await control(session, server.url, "POST", "/faults", rule)
    assert reply.status == 201, reply.body
    rule_id: int = reply.body["id"]
    return rule_id


async def _state(session: aiohttp.ClientSession, server: SandboxServer) -> dict[str, Any]:
    state: dict[str, Any] = (await control(session, server.url, "GET", "/state")).body
    return state


async def test_status_with_retry_after_and_no_state_change(
    qon: Qonversion, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    await _fault(
        session,
        server,
        method="POST",
        path_prefix=EXPERIMENTS,
        status=429,
        retry_after="7",
        count=1,
    )
    limited = await qon.call("POST", "/experiments", {"name": "A", "alias_id": "a"})
    assert limited.status == 429 and limited.headers["Retry-After"] == "7"
    assert limited.body["error"]["type"] == "request"
    assert (await _state(session, server))["qonversion"]["experiments"] == {}
    assert (await qon.call("POST", "/experiments", {"name": "A", "alias_id": "a"})).status == 201


async def test_status_without_retry_after_in_convert_shape(
    cv1: Convert, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    await _fault(session, server, path_prefix="/convert/api/v1/projects", status=503)
    reply = await cv1.call("POST", "/projects", {})
    assert reply.status == 503 and "Retry-After" not in reply.headers
    assert reply.body == {"code": 503, "message": "Simulated upstream error 503"}


async def test_faults_apply_before_auth(
    qon: Qonversion, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    await _fault(session, server, path_prefix="/qonversion/", status=500, count=1)
    assert (await qon.call("GET", "/experiments", key=None)).status == 500
    assert (await qon.call("GET", "/experiments", key=None)).status == 401


async def test_custom_non_json_body(
    qon: Qonversion, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    await _fault(session, server, path_prefix=EXPERIMENTS, status=200, body="not json")
    async with session.get(
        f"{server.url}{EXPERIMENTS}", headers={"Authorization": "Bearer test_sk_sandbox"}
    ) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/json")
        assert await response.text() == "not json"
    await control(session, server.url, "DELETE", "/faults")
    await _fault(
        session,
        server,
        path_prefix=EXPERIMENTS,
        status=502,
        body="<html>Bad gateway</html>",
        content_type="text/html",
    )
    reply = await qon.call("GET", "/experiments")
    assert reply.status == 502 and reply.headers["Content-Type"] == "text/html"


async def test_delay_then_normal_handling(
    qon: Qonversion, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    await _fault(session, server, path_prefix=EXPERIMENTS, delay_s=0.3, count=1)
    started = time.monotonic()
    reply = await qon.call("POST", "/experiments", {"name": "A", "alias_id": "a"})
    assert reply.status == 201 and time.monotonic() - started >= 0.3
    with pytest.raises(asyncio.TimeoutError):
        await _fault(session, server, path_prefix=EXPERIMENTS, delay_s=1.0, count=1)
        timeout = aiohttp.ClientTimeout(total=0.2)
        await session.get(f"{server.url}{EXPERIMENTS}", timeout=timeout)


async def test_drop_closes_the_connection(
    qon: Qonversion, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    await _fault(session, server, method="POST", path_prefix=EXPERIMENTS, drop=True, count=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await qon.call("POST", "/experiments", {"name": "A", "alias_id": "a"})
    assert (await _state(session, server))["qonversion"]["experiments"] == {}
    log = (await control(session, server.url, "GET", "/requests")).body
    assert log[-1]["status"] is None and log[-1]["fault"] == "drop"
    assert (await qon.call("POST", "/experiments", {"name": "A", "alias_id": "a"})).status == 201


async def test_drop_after_handling_keeps_the_change(
    qon: Qonversion, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    await _fault(
        session,
        server,
        method="POST",
        path_prefix=EXPERIMENTS,
        drop=True,
        after_handling=True,
        count=1,
    )
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await qon.call("POST", "/experiments", {"name": "A", "alias_id": "a"})
    assert len((await _state(session, server))["qonversion"]["experiments"]) == 1
    assert (await qon.call("POST", "/experiments", {"name": "A", "alias_id": "a"})).status == 409


async def test_count_exhaustion_and_listing(
    qon: Qonversion, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    rule_id = await _fault(
        session, server, method="GET", path_prefix=EXPERIMENTS, status=500, count=2
    )
    statuses = [(await qon.call("GET", "/experiments")).status for _ in range(3)]
    assert statuses == [500, 500, 200]
    (rule,) = (await control(session, server.url, "GET", "/faults")).body
    assert rule["id"] == rule_id and rule["remaining"] == 0 and rule["count"] == 2
    assert rule["hits"] == 2
    assert (await control(session, server.url, "DELETE", f"/faults/{rule_id}")).status == 204
    assert (await control(session, server.url, "DELETE", f"/faults/{rule_id}")).status == 404
    assert (await qon.call("POST", "/experiments", {"name": "A", "alias_id": "a"})).status == 201


async def _probability_run(config: SandboxConfig) -> list[int]:
    async with await start_sandbox(config) as server, aiohttp.ClientSession() as session:
        await _fault(session, server, path_prefix=EXPERIMENTS, status=503, probability=0.5)
        qon = Qonversion(session, server.url)
        return [(await qon.call("GET", "/experiments")).status for _ in range(40)]


async def test_probability_is_seeded() -> None:
    first = await _probability_run(SandboxConfig(seed=3))
    assert first == await _probability_run(SandboxConfig(seed=3))
    assert 5 < first.count(503) < 35 and set(first) == {200, 503}
    assert first != await _probability_run(SandboxConfig(seed=4))


@pytest.mark.parametrize(
    "rule", [{}, {"status": 503, "drop": True}, {"status": 99}, {"probability": 2, "status": 500}]
)
async def test_invalid_rules(
    session: aiohttp.ClientSession, server: SandboxServer, rule: dict[str, Any]
) -> None:
    assert (await control(session, server.url, "POST", "/faults", rule)).status == 422
