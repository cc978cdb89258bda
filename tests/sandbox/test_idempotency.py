"""Idempotency-Key on mutating requests, per provider, credential and key."""

import aiohttp

from expbridge.sandbox.runner import SandboxServer
from tests.sandbox.calls import OTHER_QONVERSION_KEY, Convert, Qonversion, control


async def _log(session: aiohttp.ClientSession, server: SandboxServer) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = (await control(session, server.url, "GET", "/requests")).body
    return rows


async def test_qonversion_create_is_replayed(
    qon: Qonversion, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    body = {"name": "Paywall", "alias_id": "pw"}
    key = {"Idempotency-Key": "evt-1:create"}
    first = await qon.call("POST", "/experiments", body, headers=key)
    again = await qon.call("POST", "/experiments", body, headers=key)
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    listed = await qon.call("GET", "/experiments")
    assert len(listed.body["data"]) == 1
    log = await _log(session, server)
    assert [r["idempotent_replay"] for r in log[:2]] == [False, True]
    assert log[0]["idempotency_key"] == "evt-1:create"
    # Without the key the same create is a conflict: the replay really skipped the handler.
    assert (await qon.call("POST", "/experiments", body)).status == 409


async def test_scope_is_per_credential_and_body_must_match(qon: Qonversion) -> None:
    key = {"Idempotency-Key": "k1"}
    await qon.call("POST", "/experiments", {"name": "A", "alias_id": "a"}, headers=key)
    other = await qon.call(
        "POST",
        "/experiments",
        {"name": "A", "alias_id": "a"},
        headers=key,
        key=OTHER_QONVERSION_KEY,
    )
    assert other.status == 409 and "Idempotent-Replayed" not in other.headers
    reused = await qon.call("POST", "/experiments", {"name": "B", "alias_id": "b"}, headers=key)
    assert reused.status == 422


async def test_validation_errors_are_not_stored(qon: Qonversion) -> None:
    key = {"Idempotency-Key": "k2"}
    assert (await qon.call("POST", "/experiments", {"name": "A"}, headers=key)).status == 422
    fixed = await qon.call("POST", "/experiments", {"name": "A"}, headers=key)
    assert fixed.status == 422 and "Idempotent-Replayed" not in fixed.headers


async def test_status_and_delete_replays(qon: Qonversion) -> None:
    experiment = await qon.create("Paywall", "pw")
    status_path = f"/experiments/{experiment['id']}/status"
    key = {"Idempotency-Key": "s1"}
    first = await qon.call("POST", status_path, {"status": "active"}, headers=key)
    await qon.call("POST", status_path, {"status": "paused"})
    replay = await qon.call("POST", status_path, {"status": "active"}, headers=key)
    assert replay.body == first.body and replay.headers["Idempotent-Replayed"] == "true"
    assert (await qon.call("GET", "/experiments/pw")).body["status"] == "paused"
    delete_key = {"Idempotency-Key": "d1"}
    assert (await qon.call("DELETE", "/experiments/pw", headers=delete_key)).status == 204
    replayed = await qon.call("DELETE", "/experiments/pw", headers=delete_key)
    assert replayed.status == 204 and replayed.headers["Idempotent-Replayed"] == "true"


async def test_convert_replay_across_fresh_signatures(cv1: Convert, cv2: Convert) -> None:
    key = {"Idempotency-Key": "evt-9:project"}
    first = await cv1.call("POST", "/projects/add", {"name": "Shop"}, headers=key)
    again = await cv1.call("POST", "/projects/add", {"name": "Shop"}, headers=key)
    assert first.status == again.status == 200 and first.body == again.body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(await cv1.ok("POST", "/projects", {})) == 1
    listed = await cv2.call("POST", "/projects", {}, headers=key)
    assert listed.status == 422
