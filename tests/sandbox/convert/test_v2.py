"""Convert v2 routes under /accounts/{id}: enveloped lists, 201 creates, variations."""

from typing import Any

from tests.sandbox.calls import Convert


async def _project(cv2: Convert, name: str = "Shop") -> str:
    project: dict[str, Any] = await cv2.ok("POST", "/projects/add", {"name": name}, status=201)
    return str(project["id"])


async def test_projects_crud_and_pagination(cv2: Convert) -> None:
    pid = await _project(cv2)
    for i in range(3):
        await _project(cv2, f"P{i}")
    assert (await cv2.ok("GET", f"/projects/{pid}"))["name"] == "Shop"
    assert (await cv2.ok("POST", f"/projects/{pid}/update", {"name": "Store"}))["name"] == "Store"
    page = await cv2.ok("POST", "/projects", {"page": 2, "results_per_page": 3})
    assert [p["name"] for p in page["data"]] == ["P2"]
    assert page["extra"]["pagination"] == {
        "items_count": 4,
        "current_page": 2,
        "results_per_page": 3,
    }
    default = await cv2.ok("POST", "/projects")
    assert default["extra"]["pagination"]["results_per_page"] == 30
    assert (await cv2.call("POST", "/projects", {"results_per_page": 51})).status == 422
    assert (await cv2.call("DELETE", f"/projects/{pid}/delete")).status == 204
    assert (await cv2.call("GET", f"/projects/{pid}")).status == 404


async def test_unknown_account_is_404(cv2: Convert) -> None:
    cv2.base = cv2.base.replace("/accounts/1000", "/accounts/2000")
    reply = await cv2.call("POST", "/projects", {})
    assert reply.status == 404 and reply.body["code"] == 404


async def test_experience_with_variations_and_status(cv2: Convert) -> None:
    pid = await _project(cv2)
    base = f"/projects/{pid}/experiences"
    created = await cv2.ok(
        "POST",
        f"{base}/add",
        {"name": "Hero", "variations": [{"name": "Control"}, {"name": "B", "css": "a{}"}]},
        status=201,
    )
    eid = created["id"]
    assert [v["name"] for v in created["variations"]] == ["Control", "B"]
    control_id, b_id = (v["id"] for v in created["variations"])
    updated = await cv2.ok(
        "POST",
        f"{base}/{eid}/update",
        {
            "variations": [{"id": b_id, "name": "Blue"}, {"name": "C"}],
            "experience_status": "active",
        },
    )
    assert [v["name"] for v in updated["variations"]] == ["Control", "Blue", "C"]
    assert updated["variations"][1]["css"] == "a{}"
    assert updated["experience_status"] == "active"
    unknown = await cv2.call(
        "POST", f"{base}/{eid}/update", {"variations": [{"id": "9", "name": "x"}]}
    )
    assert unknown.status == 404
    nameless = await cv2.call("POST", f"{base}/{eid}/update", {"variations": [{"css": "x"}]})
    assert nameless.status == 422
    variation = await cv2.ok("PUT", f"{base}/{eid}/variations/{b_id}/update", {"js": "go()"})
    assert variation["id"] == b_id and variation["js"] == "go()" and variation["name"] == "Blue"
    assert (await cv2.call("DELETE", f"{base}/{eid}/variations/{b_id}/delete")).status == 204
    after = await cv2.ok("GET", f"{base}/{eid}")
    assert [v["id"] for v in after["variations"]] == [control_id, after["variations"][1]["id"]]
    listed = await cv2.ok("POST", base, {"experience_status": ["active"]})
    assert [e["id"] for e in listed["data"]] == [eid]
    assert (await cv2.call("DELETE", f"{base}/{eid}/delete")).status == 204


async def test_goals_audiences_hypotheses(cv2: Convert) -> None:
    pid = await _project(cv2)
    cases: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
        (
            "goals",
            {"goal_name": "Buy", "goal_type": "code_trigger"},
            "goal_id",
            {"description": "d"},
        ),
        (
            "audiences",
            {"audience_name": "New", "audience_type": "transient"},
            "audience_id",
            {"description": "d"},
        ),
        (
            "hypotheses",
            {"name": "H", "prioritization_score": 4, "prioritization_score_type": "ICE"},
            "id",
            {"objective": "o"},
        ),
    ]
    for kind, body, id_field, change in cases:
        base = f"/projects/{pid}/{kind}"
        created = await cv2.ok("POST", f"{base}/add", body, status=201)
        oid = created[id_field]
        assert await cv2.ok("GET", f"{base}/{oid}") == created
        updated = await cv2.ok("POST", f"{base}/{oid}/update", change)
        assert updated == {**created, **change}
        listed = await cv2.ok("POST", base, {})
        assert [o[id_field] for o in listed["data"]] == [oid]
        assert listed["extra"]["pagination"]["items_count"] == 1
        assert (await cv2.call("POST", f"{base}/add", {**body, "bogus": 1})).status == 422
        if kind == "hypotheses":
            moved = await cv2.ok("POST", f"{base}/{oid}/update-status", {"status": "completed"})
            assert moved["status"] == "completed"
        assert (await cv2.call("DELETE", f"{base}/{oid}/delete")).status == 204
        assert (await cv2.call("GET", f"{base}/{oid}")).status == 404


async def test_v1_and_v2_share_one_account(cv1: Convert, cv2: Convert) -> None:
    pid = await _project(cv2)
    eid = (await cv1.ok("POST", f"/experiences/add/{pid}", {"name": "Hero"}))["id"]
    seen = await cv2.ok("GET", f"/projects/{pid}/experiences/{eid}")
    assert seen["name"] == "Hero"
    await cv2.ok("POST", f"/projects/{pid}/experiences/{eid}/update", {"name": "Hero 2"})
    assert (await cv1.ok("GET", f"/experiences/get/{pid}/{eid}"))["name"] == "Hero 2"
