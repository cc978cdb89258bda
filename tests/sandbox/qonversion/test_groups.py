"""Qonversion v4 groups, users attached to groups, and the experiments summary."""

import math

import aiohttp
import pytest

from expbridge.sandbox.runner import SandboxServer
from tests.sandbox.calls import Qonversion, control


async def test_groups_create_and_list(qon: Qonversion) -> None:
    experiment = await qon.create("Paywall", "pw")
    path = f"/experiments/{experiment['id']}/groups"
    reply = await qon.call("POST", path, {"weight": 50, "name": "Control", "is_control": True})
    assert reply.status == 201
    group = reply.body
    assert set(group) == {
        "object",
        "id",
        "experiment_id",
        "name",
        "weight",
        "is_control",
        "remote_config_uid",
        "created_at",
    }
    assert group["object"] == "group" and group["experiment_id"] == experiment["id"]
    second = await qon.call("POST", path, {"weight": 50.0, "remote_config_uid": "rc_1"})
    listed = await qon.call("GET", path)
    assert listed.body["object"] == "list"
    assert [g["id"] for g in listed.body["data"]] == [group["id"], second.body["id"]]


@pytest.mark.parametrize("body", [{}, {"weight": 101}, {"weight": -1}, {"weight": "50"}])
async def test_group_weight_is_required_0_to_100(qon: Qonversion, body: dict[str, object]) -> None:
    await qon.create("Paywall", "pw")
    reply = await qon.call("POST", "/experiments/pw/groups", body)
    assert reply.status == 422 and reply.body["error"]["details"][0]["field"] == "weight"


async def test_users_attach_and_detach(qon: Qonversion) -> None:
    experiment = await qon.create("Paywall", "pw")
    other = await qon.create("Other", "other")
    group = (await qon.call("POST", "/experiments/pw/groups", {"weight": 50})).body
    foreign = (await qon.call("POST", "/experiments/other/groups", {"weight": 50})).body
    path = f"/experiments/{experiment['id']}/users/user-42"
    attached = await qon.call("POST", path, {"group_id": group["id"]})
    assert attached.status == 200
    assert attached.body == {
        "object": "experiment_user",
        "experiment_id": experiment["id"],
        "user_id": "user-42",
        "group_id": group["id"],
    }
    assert (await qon.call("POST", path, {"group_id": foreign["id"]})).status == 422
    assert (await qon.call("POST", path, {"group_id": "g" * 65})).status == 422
    assert (await qon.call("POST", path, {})).status == 422
    assert (await qon.call("DELETE", path)).status == 204
    assert (await qon.call("DELETE", path)).status == 404
    assert other["id"] != experiment["id"]


async def _two_groups(qon: Qonversion) -> tuple[str, str, str]:
    experiment = await qon.create("Paywall", "pw")
    path = f"/experiments/{experiment['id']}/groups"
    control_group = await qon.call("POST", path, {"weight": 50, "is_control": True})
    variant = await qon.call("POST", path, {"weight": 50, "name": "B"})
    return experiment["id"], control_group.body["id"], variant.body["id"]


async def test_summary_with_numbers_set(
    qon: Qonversion, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    eid, control_id, variant_id = await _two_groups(qon)
    numbers = {control_id: {"users": 1000, "conversions": 100}}
    numbers[variant_id] = {"users": 1000, "conversions": 130}
    reply = await control(
        session,
        server.url,
        "POST",
        "/reports",
        {"provider": "qonversion", "experiment_id": eid, "groups": numbers},
    )
    assert reply.status == 204
    summary = await qon.call(
        "GET", "/experiments/summary", params={"filter[experiment_uid][]": eid}
    )
    assert summary.status == 200 and summary.body["object"] == "list"
    (item,) = summary.body["data"]
    assert item["object"] == "experiment_summary" and item["experiment_id"] == eid
    base, variant = item["groups"]
    assert base["is_control"] and base["uplift"] is None
    assert base["probability_to_beat_control"] is None
    assert (variant["users"], variant["conversions"]) == (1000, 130)
    assert variant["conversion_rate"] == pytest.approx(0.13)
    assert variant["uplift"] == pytest.approx(0.3)
    se = math.sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000)
    expected = 0.5 * (1 + math.erf(0.03 / se / math.sqrt(2)))
    assert variant["probability_to_beat_control"] == pytest.approx(expected, abs=1e-5)


async def test_summary_defaults_are_deterministic(qon: Qonversion) -> None:
    eid, _, _ = await _two_groups(qon)
    query = {"filter[experiment_uid][]": eid}
    draft = (await qon.call("GET", "/experiments/summary", params=query)).body["data"][0]
    assert all(g["users"] == 0 for g in draft["groups"])
    await qon.call("POST", f"/experiments/{eid}/status", {"status": "active"})
    first = (await qon.call("GET", "/experiments/summary", params=query)).body
    second = (await qon.call("GET", "/experiments/summary", params=query)).body
    assert first == second
    for group in first["data"][0]["groups"]:
        assert 0 < group["conversions"] < group["users"]
        assert 0 < group["conversion_rate"] < 1


async def test_summary_ids_rules(qon: Qonversion) -> None:
    eid, _, _ = await _two_groups(qon)
    other = await qon.create("Other", "other")
    both = [("filter[experiment_uid][]", eid), ("filter[experiment_uid][]", "other")]
    reply = await qon.call("GET", "/experiments/summary", params=both)
    assert [d["experiment_id"] for d in reply.body["data"]] == [eid, other["id"]]
    assert (await qon.call("GET", "/experiments/summary")).status == 400
    many = [("filter[experiment_uid][]", f"e{i}") for i in range(51)]
    assert (await qon.call("GET", "/experiments/summary", params=many)).status == 400
    unknown = [("filter[experiment_uid][]", "exp_missing")]
    assert (await qon.call("GET", "/experiments/summary", params=unknown)).status == 404


async def test_summary_defaults_follow_the_group_weights(qon: Qonversion) -> None:
    experiment = await qon.create("Split", "split")
    path = f"/experiments/{experiment['id']}/groups"
    await qon.call("POST", path, {"weight": 80, "is_control": True})
    await qon.call("POST", path, {"weight": 20, "name": "B"})
    await qon.call("POST", f"/experiments/{experiment['id']}/status", {"status": "active"})
    query = {"filter[experiment_uid][]": experiment["id"]}
    groups = (await qon.call("GET", "/experiments/summary", params=query)).body["data"][0]["groups"]
    control_users, variant_users = (g["users"] for g in groups)
    assert 1600 <= control_users + variant_users <= 10000
    assert control_users / (control_users + variant_users) == pytest.approx(0.8, abs=0.001)
