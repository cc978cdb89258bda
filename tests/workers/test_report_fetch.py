"""report.fetch on both providers: the status record's result is the normalised report."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from expbridge.config.settings import Settings
from tests.conftest import Ingress
from tests.helpers import carry_out, convert_overrides, sandbox_call, seed_sandbox
from tests.workers.providers.convert.seed import BASELINE, EXPERIENCE, GOAL, PROJECT, VARIANT, seed


def phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def chance_b_beats_a(a: tuple[int, int], b: tuple[int, int]) -> float:
    ra, rb = a[1] / a[0], b[1] / b[0]
    return phi((rb - ra) / math.sqrt(ra * (1 - ra) / a[0] + rb * (1 - rb) / b[0]))


async def set_numbers(sandbox_url: str, body: dict[str, Any]) -> None:
    await sandbox_call(sandbox_url, "POST", "/_sandbox/reports", body)


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("goal_named", [True, False])
async def test_convert_report_is_normalised(
    ingress: Ingress,
    make_settings: Callable[..., Settings],
    sandbox: Any,
    version: str,
    goal_named: bool,
) -> None:
    settings = make_settings(convert=convert_overrides(sandbox.url, version))
    await seed_sandbox(sandbox.url, convert=seed(experience_status="active"))
    numbers = {
        BASELINE: {"visitors": 2000, "conversions": 200},
        VARIANT: {"visitors": 2000, "conversions": 250},
    }
    where = {"provider": "convert", "project_id": PROJECT, "experience_id": EXPERIENCE}
    await set_numbers(sandbox.url, {**where, "variations": numbers})
    target = {"provider": "convert", "project_id": PROJECT, "experience_id": EXPERIENCE}
    data: dict[str, Any] = {"target": target, "start_timestamp": 1, "end_timestamp": 2}
    if goal_named:
        data["goal_id"] = GOAL
    record = await carry_out(ingress, settings, {"type": "report.fetch", "data": data})

    assert record["status"] == "succeeded", record
    report = record["result"]
    assert (report["provider"], report["experience_id"], report["goal_id"]) == (
        "convert",
        EXPERIENCE,
        GOAL,
    )
    baseline, variant = report["variations"]
    assert baseline == {
        "id": BASELINE,
        "name": "Original",
        "is_baseline": True,
        "visitors": 2000,
        "conversions": 200,
        "conversion_rate": pytest.approx(0.1),
        "change_vs_baseline": None,
        "confidence": None,
        "chance_to_win": baseline["chance_to_win"],
    }
    assert (variant["id"], variant["name"], variant["is_baseline"]) == (VARIANT, "B", False)
    assert (variant["visitors"], variant["conversions"]) == (2000, 250)
    assert variant["conversion_rate"] == pytest.approx(0.125)
    assert variant["change_vs_baseline"] == pytest.approx(0.25)
    pooled = 450 / 4000
    z = 0.025 / math.sqrt(pooled * (1 - pooled) * (2 / 2000))
    assert variant["confidence"] == pytest.approx(2 * phi(z) - 1, abs=1e-4)
    chance = chance_b_beats_a((2000, 200), (2000, 250))
    assert variant["chance_to_win"] == pytest.approx(chance, abs=1e-4)
    assert baseline["chance_to_win"] == pytest.approx(1 - chance, abs=1e-4)


async def test_qonversion_summary_is_normalised(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_sandbox(
        sandbox.url,
        qonversion={
            "experiments": [{"id": "exp_r", "name": "R", "status": "active"}],
            "groups": [
                {
                    "id": "grp_a",
                    "experiment_id": "exp_r",
                    "name": "A",
                    "is_control": True,
                    "weight": 50,
                },
                {"id": "grp_b", "experiment_id": "exp_r", "name": "B", "weight": 50},
            ],
        },
    )
    groups = {
        "grp_a": {"users": 1000, "conversions": 100},
        "grp_b": {"users": 1000, "conversions": 130},
    }
    await set_numbers(
        sandbox.url, {"provider": "qonversion", "experiment_id": "exp_r", "groups": groups}
    )
    event = {
        "type": "report.fetch",
        "data": {"target": {"provider": "qonversion", "experiment_id": "exp_r"}},
    }
    record = await carry_out(ingress, settings, event)

    assert record["status"] == "succeeded", record
    assert record["steps"][0]["name"] == "qonversion.fetch_summary"
    report = record["result"]
    assert (report["provider"], report["experiment_id"], report["goal_id"]) == (
        "qonversion",
        "exp_r",
        None,
    )
    control, variant = report["variations"]
    assert control == {
        "id": "grp_a",
        "name": "A",
        "is_baseline": True,
        "visitors": 1000,
        "conversions": 100,
        "conversion_rate": pytest.approx(0.1),
        "change_vs_baseline": None,
        "confidence": None,
        "chance_to_win": None,
    }
    assert (variant["id"], variant["is_baseline"], variant["visitors"]) == ("grp_b", False, 1000)
    assert variant["conversion_rate"] == pytest.approx(0.13)
    assert variant["change_vs_baseline"] == pytest.approx(0.3)
    assert variant["confidence"] is None
    chance = chance_b_beats_a((1000, 100), (1000, 130))
    assert variant["chance_to_win"] == pytest.approx(chance, abs=1e-5)


async def test_qonversion_report_takes_no_convert_options(ingress: Ingress) -> None:
    target = {"provider": "qonversion", "experiment_id": "exp_r"}
    response = await ingress.post_event(
        {"type": "report.fetch", "data": {"target": target, "goal_id": "77"}}
    )
    assert response.status == 422
    assert "data.goal_id" in [e["field"] for e in (await response.json())["errors"]]
