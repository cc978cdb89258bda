"""Qonversion v4 experiments: auth, path rules, create, PATCH, status, delete, list."""

import re

import pytest

from tests.sandbox.calls import OTHER_QONVERSION_KEY, Qonversion

SEED_FIELDS = {
    "object",
    "id",
    "url",
    "name",
    "alias_id",
    "description",
    "status",
    "started_at",
    "finished_at",
    "segment_percent",
    "primary_metric",
    "goal_value",
    "goal_direction",
    "context_key",
    "is_context_specific",
    "created_at",
    "updated_at",
}


@pytest.mark.parametrize(
    ("key", "headers"),
    [
        (None, {}),
        ("test_sk_unknown", {}),
        (None, {"Authorization": "Basic dGVzdF9za19zYW5kYm94Og=="}),
        (None, {"Authorization": "Bearer"}),
    ],
)
async def test_missing_or_unknown_key_is_401(
    qon: Qonversion, key: str | None, headers: dict[str, str]
) -> None:
    reply = await qon.call("GET", "/experiments", key=key, headers=headers)
    assert reply.status == 401
    assert reply.body["error"]["type"] == "request"
    assert reply.body["error"]["code"] == "control_unauthorized"
    assert reply.body["error"]["message"]
    assert "details" not in reply.body["error"]


async def test_every_configured_key_is_accepted(qon: Qonversion) -> None:
    assert (await qon.call("GET", "/experiments", key=OTHER_QONVERSION_KEY)).status == 200


@pytest.mark.parametrize("bad_id", ["has space", "semi;colon", "x" * 257])
async def test_path_id_pattern_and_length(qon: Qonversion, bad_id: str) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        reply = await qon.call(method, f"/experiments/{bad_id}", {} if method == "PATCH" else None)
        assert reply.status == 400, (method, reply.body)
        assert reply.body["error"]["details"][0]["field"] == "experiment_id"


async def test_id_of_256_allowed_chars_is_valid_but_unknown(qon: Qonversion) -> None:
    reply = await qon.call("GET", "/experiments/" + "a._-9" * 51 + "z")
    assert reply.status == 404
    assert reply.body["error"]["type"] == "resource"


async def test_create_returns_the_seed_object(qon: Qonversion) -> None:
    reply = await qon.call(
        "POST", "/experiments", {"name": "Paywall", "alias_id": "paywall_ab_test_v3"}
    )
    assert reply.status == 201
    experiment = reply.body
    assert set(experiment) == SEED_FIELDS
    assert experiment["object"] == "experiment"
    assert re.fullmatch(r"exp_[0-9a-f]+", experiment["id"])
    assert experiment["url"] == f"/v4/experiments/{experiment['id']}"
    assert experiment["status"] == "draft"
    assert experiment["started_at"] is None and experiment["finished_at"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", experiment["created_at"])


async def test_create_validation_and_alias_conflict(qon: Qonversion) -> None:
    missing = await qon.call("POST", "/experiments", {"name": "No alias"})
    assert missing.status == 422
    assert [d["field"] for d in missing.body["error"]["details"]] == ["alias_id"]
    too_long = await qon.call("POST", "/experiments", {"name": "n", "alias_id": "a" * 65})
    assert too_long.status == 422
    bad_pattern = await qon.call("POST", "/experiments", {"name": "n", "alias_id": "a b"})
    assert bad_pattern.status == 422
    malformed = await qon.call("POST", "/experiments", headers={"Content-Type": "application/json"})
    assert malformed.status == 400
    await qon.create("First", "same_alias")
    conflict = await qon.call("POST", "/experiments", {"name": "Second", "alias_id": "same_alias"})
    assert conflict.status == 409
    assert conflict.body["error"]["code"] == "alias_id_conflict"


async def test_lookup_by_id_or_alias(qon: Qonversion) -> None:
    experiment = await qon.create("Paywall", "paywall_v3")
    by_id = await qon.call("GET", f"/experiments/{experiment['id']}")
    by_alias = await qon.call("GET", "/experiments/paywall_v3")
    assert by_id.body == by_alias.body == experiment


async def test_patch_changes_only_provided_fields(qon: Qonversion) -> None:
    experiment = await qon.create("Paywall", "pw", description="old", segment_percent=20)
    reply = await qon.call(
        "PATCH", f"/experiments/{experiment['id']}", {"name": "New", "goal_value": 1.5}
    )
    assert reply.status == 200
    assert reply.body["name"] == "New" and reply.body["goal_value"] == 1.5
    assert reply.body["description"] == "old" and reply.body["segment_percent"] == 20
    cleared = await qon.call("PATCH", "/experiments/pw", {"goal_value": None, "alias_id": "pw"})
    assert cleared.status == 200 and cleared.body["goal_value"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"primary_metric": "user-to-trial"}, "primary_metric"),
        ({"primary_metric": "subscription-cancellation"}, "primary_metric"),
        ({"segment_percent": "50"}, "segment_percent"),
        ({"is_context_specific": "yes"}, "is_context_specific"),
        ({"name": None}, "name"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"alias_id": "changed"}, "alias_id"),
    ],
)
async def test_patch_rejects(qon: Qonversion, body: dict[str, object], field: str) -> None:
    experiment = await qon.create("Paywall", "pw")
    reply = await qon.call("PATCH", f"/experiments/{experiment['id']}", body)
    assert reply.status == 422, reply.body
    assert reply.body["error"]["details"][0]["field"] == field
    assert (await qon.call("GET", "/experiments/pw")).body == experiment


async def test_patch_accepts_underscore_metric_and_unknown_is_404(qon: Qonversion) -> None:
    await qon.create("Paywall", "pw")
    reply = await qon.call("PATCH", "/experiments/pw", {"primary_metric": "user_to_trial"})
    assert reply.status == 200 and reply.body["primary_metric"] == "user_to_trial"
    assert (await qon.call("PATCH", "/experiments/nope", {"name": "x"})).status == 404


async def test_status_transitions(qon: Qonversion) -> None:
    experiment = await qon.create("Paywall", "pw")
    path = f"/experiments/{experiment['id']}/status"
    invalid = await qon.call("POST", path, {"status": "paused"})
    assert invalid.status == 409
    assert invalid.body["error"]["code"] == "invalid_status_transition"
    started = await qon.call("POST", path, {"status": "active"})
    assert started.status == 200 and started.body["status"] == "active"
    assert started.body["started_at"] is not None
    again = await qon.call("POST", path, {"status": "active"})
    assert again.status == 200 and again.body == started.body
    assert (await qon.call("POST", path, {"status": "paused"})).body["status"] == "paused"
    assert (await qon.call("POST", path, {"status": "active"})).body["status"] == "active"
    finished = await qon.call("POST", path, {"status": "finished"})
    assert finished.body["finished_at"] is not None
    assert finished.body["started_at"] == started.body["started_at"]
    assert (await qon.call("POST", path, {"status": "active"})).status == 409
    assert (await qon.call("POST", path, {"status": "draft"})).status == 409
    assert (await qon.call("POST", path, {"status": "running"})).status == 422


async def test_delete(qon: Qonversion) -> None:
    experiment = await qon.create("Paywall", "pw")
    reply = await qon.call("DELETE", f"/experiments/{experiment['id']}")
    assert reply.status == 204 and reply.body is None
    assert (await qon.call("GET", f"/experiments/{experiment['id']}")).status == 404
    assert (await qon.call("DELETE", f"/experiments/{experiment['id']}")).status == 404


async def test_list_pagination(qon: Qonversion) -> None:
    ids = [(await qon.create(f"E{i}", f"e{i}"))["id"] for i in range(5)]
    first = await qon.call("GET", "/experiments", params={"limit": "2"})
    assert first.body["object"] == "list" and first.body["url"] == "/v4/experiments"
    assert [e["id"] for e in first.body["data"]] == ids[:2] and first.body["has_more"]
    rest = await qon.call("GET", "/experiments", params={"starting_after": ids[1], "limit": "3"})
    assert [e["id"] for e in rest.body["data"]] == ids[2:] and not rest.body["has_more"]
    default = await qon.call("GET", "/experiments")
    assert len(default.body["data"]) == 5 and not default.body["has_more"]
    for bad in ({"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"starting_after": "exp_no"}):
        assert (await qon.call("GET", "/experiments", params=bad)).status == 400


async def test_unknown_route_uses_error_shape(qon: Qonversion) -> None:
    reply = await qon.call("GET", "/nothing-here")
    assert reply.status == 404 and reply.body["error"]["type"] == "request"
    reply = await qon.call("PUT", "/experiments")
    assert reply.status == 405 and "error" in reply.body
