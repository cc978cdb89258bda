"""Convert v1 routes: CRUD for every resource, lists as bare arrays, variations, statuses."""

from typing import Any

import pytest

from tests.sandbox.calls import Convert

EXPERIENCE_FIELDS = {
    "id",
    "name",
    "experience_description",
    "experience_type",
    "experience_status",
    "start_time",
    "end_time",
    "global_js",
    "editor_url",
    "keep_winner",
    "stop_looser",
    "minrun",
    "maxrun",
    "minordv",
    "maxordv",
    "minconv",
    "minvis",
    "maxvis",
    "confidence",
    "site_area",
    "goals",
    "audiences",
    "variations",
}


async def _project(cv1: Convert, name: str = "Shop") -> dict[str, Any]:
    project: dict[str, Any] = await cv1.ok("POST", "/projects/add", {"name": name})
    return project


async def test_projects_crud(cv1: Convert) -> None:
    project = await cv1.ok("POST", "/projects/add", {"name": "Shop", "websites": ["a.example"]})
    assert project["account_id"] == "1000" and project["status"] == "active"
    assert project["id"] in project["tracking_snippet"]
    pid = project["id"]
    assert await cv1.ok("GET", f"/projects/get/{pid}") == project
    updated = await cv1.ok("POST", f"/projects/update/{pid}", {"include_jquery": 1})
    assert updated["include_jquery"] == 1 and updated["websites"] == ["a.example"]
    await _project(cv1, "Blog")
    listed = await cv1.ok("POST", "/projects", {"page": 1, "results_per_page": 1})
    assert isinstance(listed, list) and [p["id"] for p in listed] == [pid]
    assert len(await cv1.ok("GET", "/projects/")) == 2
    assert len(await cv1.ok("POST", "/projects", {"page": 2, "results_per_page": 1})) == 1
    assert (await cv1.call("DELETE", f"/projects/delete/{pid}")).status == 204
    assert (await cv1.call("GET", f"/projects/get/{pid}")).status == 404


@pytest.mark.parametrize(
    "body",
    [{}, {"name": "x", "status": "deleted"}, {"name": "x", "include_jquery": 2}, {"name": 5}],
)
async def test_project_validation(cv1: Convert, body: dict[str, Any]) -> None:
    reply = await cv1.call("POST", "/projects/add", body)
    assert reply.status == 422
    assert reply.body["code"] == 422 and reply.body["fields"]


async def test_experiences_crud_and_status(cv1: Convert) -> None:
    pid = (await _project(cv1))["id"]
    created = await cv1.ok(
        "POST",
        f"/experiences/add/{pid}",
        {"name": "Hero", "experience_type": "a/b", "variations": [{"name": "ignored"}]},
    )
    assert set(created) == EXPERIENCE_FIELDS
    assert [v["name"] for v in created["variations"]] == ["Original"]
    eid = created["id"]
    assert await cv1.ok("GET", f"/experiences/get/{pid}/{eid}") == created
    path = f"/experiences/update/{pid}/{eid}"
    updated = await cv1.ok("POST", path, {"experience_description": "memo"})
    assert updated["name"] == "Hero" and updated["experience_description"] == "memo"
    active = await cv1.ok("POST", path, {"experience_status": "active"})
    assert active["experience_status"] == "active" and active["start_time"] > 0
    assert (await cv1.call("POST", path, {"experience_status": "draft"})).status == 409
    for status in ("paused", "completed", "archived"):
        assert (await cv1.ok("POST", path, {"experience_status": status}))[
            "experience_status"
        ] == status
    assert (await cv1.call("POST", path, {"experience_status": "running"})).status == 422
    assert (await cv1.call("DELETE", f"/experiences/delete/{pid}/{eid}")).status == 204
    assert (await cv1.call("GET", f"/experiences/get/{pid}/{eid}")).status == 404


async def test_experience_list_filters(cv1: Convert) -> None:
    pid = (await _project(cv1))["id"]
    await cv1.ok("POST", f"/experiences/add/{pid}", {"name": "Hero banner"})
    await cv1.ok("POST", f"/experiences/add/{pid}", {"name": "Menu", "experience_type": "mvt"})
    assert len(await cv1.ok("POST", f"/experiences/{pid}", {})) == 2
    mvt = await cv1.ok("POST", f"/experiences/{pid}", {"experience_types": ["mvt"]})
    assert [e["name"] for e in mvt] == ["Menu"]
    found = await cv1.ok("POST", f"/experiences/{pid}", {"search": "banner"})
    assert [e["name"] for e in found] == ["Hero banner"]
    bad = await cv1.call("POST", f"/experiences/{pid}", {"experience_status": ["live"]})
    assert bad.status == 422
    assert (await cv1.call("POST", "/experiences/999999", {})).status == 404


async def test_variations_add_and_delete(cv1: Convert) -> None:
    pid = (await _project(cv1))["id"]
    eid = (await cv1.ok("POST", f"/experiences/add/{pid}", {"name": "Hero"}))["id"]
    added = await cv1.ok("POST", f"/variations/add/{pid}/{eid}", {"name": "B", "css": "a{}"})
    assert [v["name"] for v in added["variations"]] == ["Original", "B"]
    assert [v["percentage"] for v in added["variations"]] == [50, 50]
    vid = added["variations"][1]["id"]
    assert (await cv1.call("POST", f"/variations/add/{pid}/{eid}", {"percentage": 5})).status == 422
    after = await cv1.ok("DELETE", f"/variations/delete/{pid}/{eid}/{vid}")
    assert [v["name"] for v in after["variations"]] == ["Original"]
    assert (await cv1.call("DELETE", f"/variations/delete/{pid}/{eid}/{vid}")).status == 404


async def test_goals_crud(cv1: Convert) -> None:
    pid = (await _project(cv1))["id"]
    goal = await cv1.ok(
        "POST", f"/goals/add/{pid}", {"goal_name": "Purchase", "goal_type": "revenue"}
    )
    assert set(goal) == {
        "goal_id",
        "goal_name",
        "description",
        "triggering_rule",
        "goal_type",
        "dom_interaction",
    }
    gid = goal["goal_id"]
    assert await cv1.ok("GET", f"/goals/get/{pid}/{gid}") == goal
    updated = await cv1.ok("POST", f"/goals/update/{pid}/{gid}", {"description": "checkout"})
    assert updated["goal_name"] == "Purchase" and updated["description"] == "checkout"
    assert (await cv1.call("POST", f"/goals/update/{pid}/{gid}", {"goal_type": "x"})).status == 422
    assert [g["goal_id"] for g in await cv1.ok("POST", f"/goals/{pid}", {"search": "pur"})] == [gid]
    assert (await cv1.call("DELETE", f"/goals/delete/{pid}/{gid}")).status == 204
    assert (await cv1.call("GET", f"/goals/get/{pid}/{gid}")).status == 404


async def test_audiences_crud(cv1: Convert) -> None:
    pid = (await _project(cv1))["id"]
    body = {"audience_name": "Returning", "audience_type": "segmentation"}
    audience = await cv1.ok("POST", f"/audiences/add/{pid}", body)
    aid = audience["audience_id"]
    assert audience["audience_type"] == "segmentation"
    assert await cv1.ok("GET", f"/audiences/get/{pid}/{aid}") == audience
    updated = await cv1.ok("POST", f"/audiences/update/{pid}/{aid}", {"description": "d"})
    assert updated["description"] == "d" and updated["audience_name"] == "Returning"
    bad = await cv1.call(
        "POST", f"/audiences/add/{pid}", {"audience_name": "x", "audience_type": "y"}
    )
    assert bad.status == 422
    assert len(await cv1.ok("POST", f"/audiences/{pid}", {"isSegment": True})) == 1
    assert len(await cv1.ok("POST", f"/audiences/{pid}", {"isUsed": True})) == 0
    await cv1.ok("POST", f"/experiences/add/{pid}", {"name": "E", "audiences": [aid]})
    assert len(await cv1.ok("POST", f"/audiences/{pid}", {"isUsed": True})) == 1
    assert (await cv1.call("DELETE", f"/audiences/delete/{pid}/{aid}")).status == 204


async def test_hypotheses_crud_and_status(cv1: Convert) -> None:
    pid = (await _project(cv1))["id"]
    body = {
        "name": "Shorter form",
        "prioritization_score_type": "PIE",
        "prioritization_score_attributes": {"potential": 2, "importance": 3, "ease": 4},
        "start_date": "2026-11-01",
    }
    hypothesis = await cv1.ok("POST", f"/hypotheses/add/{pid}", body)
    hid = hypothesis["id"]
    assert isinstance(hid, int) and hypothesis["project_id"] == int(pid)
    assert hypothesis["prioritization_score"] == "3" and hypothesis["status"] == "draft"
    assert await cv1.ok("GET", f"/hypotheses/get/{pid}/{hid}") == hypothesis
    updated = await cv1.ok("POST", f"/hypotheses/update/{pid}/{hid}", {"summary": "s"})
    assert updated["summary"] == "s" and updated["name"] == "Shorter form"
    moved = await cv1.ok("POST", f"/hypotheses/update-status/{pid}/{hid}", {"status": "active"})
    assert moved["status"] == "active"
    bad_status = await cv1.call("POST", f"/hypotheses/update-status/{pid}/{hid}", {"status": "x"})
    assert bad_status.status == 422
    wrong_model = {"prioritization_score_type": "ICE"}
    assert (await cv1.call("POST", f"/hypotheses/update/{pid}/{hid}", wrong_model)).status == 422
    assert (
        await cv1.call("POST", f"/hypotheses/add/{pid}", {"name": "x", "start_date": "1/2/26"})
    ).status == 422
    assert len(await cv1.ok("POST", f"/hypotheses/{pid}", {"scoreMin": "3"})) == 1
    assert len(await cv1.ok("POST", f"/hypotheses/{pid}", {"scoreMin": 4})) == 0
    assert len(await cv1.ok("POST", f"/hypotheses/{pid}", {"status": ["draft"]})) == 0
    assert (await cv1.call("DELETE", f"/hypotheses/delete/{pid}/{hid}")).status == 204


async def test_unknown_ids_and_bodies(cv1: Convert) -> None:
    pid = (await _project(cv1))["id"]
    other = (await _project(cv1, "Other"))["id"]
    goal = await cv1.ok("POST", f"/goals/add/{pid}", {"goal_name": "G"})
    assert (await cv1.call("GET", f"/goals/get/{other}/{goal['goal_id']}")).status == 404
    assert (await cv1.call("GET", "/projects/get/424242")).status == 404
    bad_ref = await cv1.call(
        "POST", f"/experiences/add/{other}", {"name": "E", "goals": [goal["goal_id"]]}
    )
    assert bad_ref.status == 422
    async with cv1.session.post(
        cv1.base + "/projects/add",
        data=b"{not json",
        headers=cv1.signed_headers(cv1.base + "/projects/add", b"{not json"),
    ) as response:
        assert response.status == 400 and (await response.json())["code"] == 400
