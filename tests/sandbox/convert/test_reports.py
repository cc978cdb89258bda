"""Convert reports (v1 full and partial, v2 aggregated) with numbers set through /_sandbox."""

import math
from typing import Any

import aiohttp
import pytest

from expbridge.sandbox.runner import SandboxServer
from tests.sandbox.calls import Convert, control


def phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


async def _setup(cv1: Convert) -> tuple[str, str, str, str, list[str]]:
    pid = (await cv1.ok("POST", "/projects/add", {"name": "Shop"}))["id"]
    g1 = (await cv1.ok("POST", f"/goals/add/{pid}", {"goal_name": "Buy"}))["goal_id"]
    g2 = (await cv1.ok("POST", f"/goals/add/{pid}", {"goal_name": "Signup"}))["goal_id"]
    eid = (await cv1.ok("POST", f"/experiences/add/{pid}", {"name": "E", "goals": [g1, g2]}))["id"]
    experience = await cv1.ok("POST", f"/variations/add/{pid}/{eid}", {"name": "B"})
    return pid, eid, g1, g2, [v["id"] for v in experience["variations"]]


async def _set(session: aiohttp.ClientSession, server: SandboxServer, body: dict[str, Any]) -> None:
    reply = await control(session, server.url, "POST", "/reports", {"provider": "convert", **body})
    assert reply.status == 204, reply.body


def _metric(goal: dict[str, Any], index: int) -> dict[str, Any]:
    metric: dict[str, Any] = goal["variations"][index]["metrics"][0]
    return metric


async def test_full_report_with_numbers(
    cv1: Convert, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    pid, eid, g1, g2, (base_id, b_id) = await _setup(cv1)
    numbers = {
        base_id: {"visitors": 2000, "conversions": 200},
        b_id: {"visitors": 2000, "conversions": 250},
    }
    await _set(session, server, {"project_id": pid, "experience_id": eid, "variations": numbers})
    report = (await cv1.ok("POST", f"/reports/get/{pid}/{eid}", {}))["data"]
    assert report["experience_id"] == eid
    assert [g["goal_id"] for g in report["goals"]] == [g1, g2]
    goal = report["goals"][0]
    assert goal["goal_name"] == "Buy"
    baseline, variant = goal["variations"]
    assert baseline["is_baseline"] and not variant["is_baseline"]
    assert (baseline["variation_id"], baseline["variation_name"]) == (base_id, "Original")
    assert baseline["visitors"] == 2000
    base_metric, metric = _metric(goal, 0), _metric(goal, 1)
    assert base_metric["metric_change"] is None and base_metric["metric_value"] == 10.0
    assert metric["metric_type"] == "conversion_rate" and metric["metric_total"] == 250
    assert metric["metric_value"] == pytest.approx(12.5)
    assert metric["metric_change"] == pytest.approx(25.0)
    pooled = 450 / 4000
    z = 0.025 / math.sqrt(pooled * (1 - pooled) * (2 / 2000))
    assert metric["confidence"] == pytest.approx((2 * phi(z) - 1) * 100, abs=1e-3)
    assert metric["statistically_significant"] is True
    se = math.sqrt(0.1 * 0.9 / 2000 + 0.125 * 0.875 / 2000)
    assert metric["chance_to_win"] == pytest.approx(phi(0.025 / se) * 100, abs=1e-3)
    assert base_metric["chance_to_win"] == pytest.approx(100 - metric["chance_to_win"], abs=1e-3)


async def test_partial_report_and_per_goal_numbers(
    cv1: Convert, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    pid, eid, _, g2, (base_id, b_id) = await _setup(cv1)
    same = {
        base_id: {"visitors": 100, "conversions": 10},
        b_id: {"visitors": 100, "conversions": 11},
    }
    await _set(
        session,
        server,
        {"project_id": pid, "experience_id": eid, "goal_id": g2, "variations": same},
    )
    partial = (await cv1.ok("POST", f"/reports/get/{pid}/{eid}/{g2}", {"start_timestamp": 1}))[
        "data"
    ]
    (goal,) = partial["goals"]
    assert goal["goal_id"] == g2 and _metric(goal, 1)["metric_total"] == 11
    assert _metric(goal, 1)["statistically_significant"] is False
    bad_range = {"start_timestamp": 10, "end_timestamp": 5}
    assert (await cv1.call("POST", f"/reports/get/{pid}/{eid}", bad_range)).status == 422
    assert (await cv1.call("POST", f"/reports/get/{pid}/{eid}/424242", {})).status == 404
    assert (await cv1.call("POST", f"/reports/get/{pid}/424242", {})).status == 404


async def test_v2_aggregated_report_narrows_goals(
    cv1: Convert, cv2: Convert, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    pid, eid, g1, _, (_, b_id) = await _setup(cv1)
    await cv1.ok("POST", f"/experiences/update/{pid}/{eid}", {"experience_status": "active"})
    path = f"/projects/{pid}/experiences/{eid}/aggregated_report"
    first = await cv2.ok("POST", path, {"goals": [g1]})
    assert [g["goal_id"] for g in first["data"]["goals"]] == [g1]
    assert first == await cv2.ok("POST", path, {"goals": [g1]})
    visitors = [v["visitors"] for v in first["data"]["goals"][0]["variations"]]
    assert all(v > 0 for v in visitors)
    numbers = {b_id: {"visitors": 10, "conversions": 11}}
    reply = await control(
        session,
        server.url,
        "POST",
        "/reports",
        {"provider": "convert", "project_id": pid, "experience_id": eid, "variations": numbers},
    )
    assert reply.status == 422


async def test_default_numbers_follow_the_variations_percentages(
    cv1: Convert, session: aiohttp.ClientSession, server: SandboxServer
) -> None:
    variations = [
        {"id": "31", "name": "A", "percentage": 70},
        {"id": "32", "name": "B", "percentage": 30},
    ]
    convert = {
        "projects": [{"id": "10", "name": "Shop"}],
        "goals": [{"goal_id": "20", "project_id": "10", "goal_name": "Buy"}],
        "experiences": [
            {
                "id": "30",
                "project_id": "10",
                "name": "E",
                "goals": ["20"],
                "experience_status": "active",
                "variations": variations,
            }
        ],
    }
    reply = await control(session, server.url, "POST", "/seed", {"convert": convert})
    assert reply.status == 200, reply.body
    report = (await cv1.ok("POST", "/reports/get/10/30", {}))["data"]
    visitors = [v["visitors"] for v in report["goals"][0]["variations"]]
    assert len(visitors) == 2 and 1600 <= sum(visitors) <= 10000
    assert visitors[0] / sum(visitors) == pytest.approx(0.7, abs=0.001)
