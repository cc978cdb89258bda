"""The SRM guard against hand-computed chi-square values, and where the planned split comes from."""

from __future__ import annotations

import math

import pytest

from expbridge.workers.rules.srm import planned_shares, srm_p_values


def chi2_df1_p(statistic: float) -> float:
    return math.erfc(math.sqrt(statistic / 2))


def test_two_variations_against_a_50_50_plan() -> None:
    # 5,200 / 4,800: chi² = 2 · 200² / 5,000 = 16.
    assert srm_p_values([5200, 4800], [50, 50]) == pytest.approx(chi2_df1_p(16.0), rel=1e-9)
    assert srm_p_values([11000, 9000], [50, 50]) < 1e-40
    assert srm_p_values([5010, 4990], [50, 50]) > 0.8


def test_an_uneven_plan_and_three_variations() -> None:
    # 90/10 planned, 9,000 / 1,000 seen: exactly as planned.
    assert srm_p_values([9000, 1000], [90, 10]) == pytest.approx(1.0)
    assert srm_p_values([5000, 5000], [90, 10]) < 1e-100
    # chi² = (1,050 - 1,000)² / 1,000 + (950 - 1,000)² / 1,000 + 0 = 5, two degrees of freedom.
    assert srm_p_values([1050, 950, 1000], [1, 1, 1]) == pytest.approx(math.exp(-5 / 2))


def test_a_variation_planned_at_zero() -> None:
    assert srm_p_values([5000, 3, 5000], [50, 0, 50]) == 0.0
    assert srm_p_values([5000, 0, 5000], [50, 0, 50]) == pytest.approx(1.0)


def test_no_visitors_is_not_a_mismatch() -> None:
    assert srm_p_values([0, 0], [50, 50]) == 1.0


def test_the_split_comes_from_the_rule_then_the_provider_then_equal() -> None:
    ids, names = ["v1", "v2"], ["Original", "B"]
    assert planned_shares(ids, names, {"Original": 70, "v2": 30}, {"v1": 50, "v2": 50}) == (
        [70.0, 30.0],
        "rule",
    )
    assert planned_shares(ids, names, None, {"v1": 80, "v2": 20}) == ([80.0, 20.0], "provider")
    assert planned_shares(ids, names, None, {"v1": 80, "v2": None}) == ([50.0, 50.0], "equal")
    assert planned_shares(ids, names, None, {"v1": 0, "v2": 0}) == ([50.0, 50.0], "equal")
    assert planned_shares(ids, names, None, None) == ([50.0, 50.0], "equal")
