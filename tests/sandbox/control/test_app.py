"""The /_sandbox control plane: request log, seeding, state and reset."""

import aiohttp

from expbridge.sandbox.runner import SandboxServer, start_sandbox
from tests.sandbox.calls import Convert, Qonversion, control


async def test_request_log_records_and_redacts(
    qon: Qonversion, cv1: Convert, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    await qon.call("GET", "/experiments", params={"limit": "5"})
    await cv1.call("POST", "/projects/add", {"name": "Shop"})
    log = (await control(session, server.url, "GET", "/requests")).body
    assert [r["seq"] for r in log] == [1, 2]
    first, second = log
    assert first["provider"] == "qonversion" and first["method"] == "GET"
    assert first["path"] == "/qonversion/v4/experiments" and first["query"] == {"limit": "5"}
    assert first["headers"]["Authorization"] == "Bearer [redacted]"
    assert first["body"] is None and first["status"] == 200 and first["fault"] is None
    assert second["headers"]["Authorization"] == "Convert-HMAC-SHA256 [redacted]"
    assert second["body"] == {"name": "Shop"} and second["status"] == 200
    assert "test_sk_sandbox" not in str(log)
    only = await control(session, server.url, "GET", "/requests?provider=convert")
    assert [r["seq"] for r in only.body] == [2]
    prefixed = await control(session, server.url, "GET", "/requests?path_prefix=/qonversion/v4/exp")
    assert [r["seq"] for r in prefixed.body] == [1]
    assert (await control(session, server.url, "DELETE", "/requests")).status == 204
    assert (await control(session, server.url, "GET", "/requests")).body == []


async def test_seed_keeps_ids_and_allows_legacy_values(
    qon: Qonversion, cv2: Convert, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    body = {
        "qonversion": {
            "experiments": [
                {
                    "id": "exp_8f3a",
                    "name": "Old",
                    "primary_metric": "user-to-trial",
                    "status": "active",
                }
            ],
            "groups": [{"id": "grp_a", "experiment_id": "exp_8f3a", "weight": 50}],
            "users": [{"experiment_id": "exp_8f3a", "user_id": "u1", "group_id": "grp_a"}],
        },
        "convert": {
            "projects": [{"id": "1001", "name": "Shop"}],
            "goals": [{"project_id": "1001", "goal_id": "3003", "goal_name": "Buy"}],
            "experiences": [
                {
                    "project_id": "1001",
                    "id": "2002",
                    "name": "Hero",
                    "experience_status": "active",
                    "goals": ["3003"],
                    "variations": [{"id": "1", "name": "A"}, {"id": "2", "name": "B"}],
                }
            ],
            "hypotheses": [{"project_id": "1001", "id": "4004", "name": "H"}],
            "audiences": [{"project_id": "1001", "audience_id": "5005", "audience_name": "All"}],
        },
    }
    reply = await control(session, server.url, "POST", "/seed", body)
    assert reply.status == 200
    assert reply.body["qonversion"]["users"] == {"exp_8f3a": {"u1": "grp_a"}}
    legacy = await qon.call("GET", "/experiments/exp_8f3a")
    assert (
        legacy.body["primary_metric"] == "user-to-trial" and legacy.body["alias_id"] == "exp_8f3a"
    )
    experience = await cv2.ok("GET", "/projects/1001/experiences/2002")
    assert [v["id"] for v in experience["variations"]] == ["1", "2"]
    assert (await cv2.ok("GET", "/projects/1001/hypotheses/4004"))["id"] == 4004
    report = await cv2.ok("POST", "/projects/1001/experiences/2002/aggregated_report")
    assert report["data"]["goals"][0]["goal_id"] == "3003"
    state = (await control(session, server.url, "GET", "/state")).body
    assert set(state["convert"]) == {"projects", "experiences", "goals", "hypotheses", "audiences"}
    assert state["convert"]["experiences"]["2002"]["project_id"] == "1001"
    bad = await control(
        session, server.url, "POST", "/seed", {"convert": {"goals": [{"goal_name": "x"}]}}
    )
    assert bad.status == 400 and "project_id" in bad.body["error"]


async def test_reset_clears_everything(
    qon: Qonversion, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    await qon.create("A", "a")
    await control(
        session, server.url, "POST", "/faults", {"status": 500, "path_prefix": "/nowhere"}
    )
    await qon.call(
        "POST", "/experiments", {"name": "B", "alias_id": "b"}, headers={"Idempotency-Key": "x"}
    )
    assert (await control(session, server.url, "POST", "/reset")).status == 204
    state = (await control(session, server.url, "GET", "/state")).body
    assert state["qonversion"]["experiments"] == {} and state["convert"]["projects"] == {}
    assert (await control(session, server.url, "GET", "/faults")).body == []
    assert (await control(session, server.url, "GET", "/requests")).body == []
    again = await qon.call(
        "POST", "/experiments", {"name": "B", "alias_id": "b"}, headers={"Idempotency-Key": "x"}
    )
    assert again.status == 201 and "Idempotent-Replayed" not in again.headers


async def test_runner_url_and_loopback_only() -> None:
    async with await start_sandbox() as server:
        assert server.url.startswith("http://127.0.0.1:") and not server.url.endswith("/")
    try:
        await start_sandbox(host="0.0.0.0")
    except ValueError:
        pass
    else:
        raise AssertionError("a non-loopback bind must be refused")
