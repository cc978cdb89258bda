"""The mixture SPRT against values computed independently: the closed forms against numerical
integration of the likelihood ratio over the mixing distribution, hand-computed numbers, the
interval's boundary, and a small simulation of repeated looks under the null."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from expbridge.workers.rules.sequential import (
    always_valid_p_value,
    log_likelihood_ratio,
    mixture_test,
)


def normal_pdf(x: float, mean: float, var: float) -> float:
    return math.exp(-((x - mean) ** 2) / (2 * var)) / math.sqrt(2 * math.pi * var)


def integrated_ratio(d: float, var: float, tau2: float, lower: float = -math.inf) -> float:
    """∫ N(d; θ, V) / N(d; 0, V) · h(θ) dθ, h the N(0, τ²) density (doubled on θ > 0 when
    `lower` is 0: the half normal)."""
    weight = 2.0 if lower == 0 else 1.0
    tau = math.sqrt(tau2)

    def integrand(theta: float) -> float:
        ratio = normal_pdf(d, theta, var) / normal_pdf(d, 0.0, var)
        return ratio * weight * normal_pdf(theta, 0.0, tau2)

    value, _ = integrate.quad(integrand, max(lower, -12 * tau), 12 * tau, points=[d], limit=200)
    return value


@pytest.mark.parametrize(
    ("d", "var", "tau2"),
    [(0.03, 2.031e-4, 1.3225e-4), (0.01, 1.25e-5, 1.1e-4), (-0.004, 4e-6, 1e-6)],
)
def test_closed_forms_equal_the_mixture_integrals(d: float, var: float, tau2: float) -> None:
    two_sided = math.exp(log_likelihood_ratio(d, var, tau2, "either"))
    assert two_sided == pytest.approx(integrated_ratio(d, var, tau2), rel=1e-6)
    better = math.exp(log_likelihood_ratio(d, var, tau2, "better"))
    assert better == pytest.approx(integrated_ratio(d, var, tau2, lower=0.0), rel=1e-6)
    worse = math.exp(log_likelihood_ratio(d, var, tau2, "worse"))
    assert worse == pytest.approx(integrated_ratio(-d, var, tau2, lower=0.0), rel=1e-6)


def test_hand_computed_values_at_1000_a_side() -> None:
    # 10 % against 13 %: a fixed-horizon z-test says p ≈ 0.04; the always-valid test does not.
    var = 0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000
    tau2 = (0.1 * 230 / 2000) ** 2
    ratio = math.sqrt(var / (var + tau2)) * math.exp(tau2 * 0.03**2 / (2 * var * (var + tau2)))
    test = mixture_test(100, 1000, 130, 1000, alpha=0.05)
    assert test.difference == pytest.approx(0.03)
    assert test.p_value == pytest.approx(1 / ratio, rel=1e-12)
    assert 0.5 < test.p_value < 0.55
    half = math.sqrt(
        2 * var * (var + tau2) / tau2 * (math.log(20) + 0.5 * math.log((var + tau2) / var))
    )
    assert (test.low, test.high) == pytest.approx((0.03 - half, 0.03 + half), rel=1e-12)
    assert test.low < 0 < test.high
    z = 0.03 / math.sqrt(0.115 * 0.885 * 2 / 1000)
    assert math.erfc(z / math.sqrt(2)) < 0.05  # what the provider's confidence would accept


def test_the_interval_ends_where_the_test_rejects_exactly() -> None:
    for direction in ("either", "better", "worse"):
        test = mixture_test(1000, 10000, 1130, 10000, direction=direction, alpha=0.05)
        var = 0.1 * 0.9 / 10000 + 0.113 * 0.887 / 10000
        tau2 = (0.1 * 2130 / 20000) ** 2
        ends = [e for e in (test.low, test.high) if math.isfinite(e)]
        for end in ends:
            # The test of H0: θ = end (shift the difference) sits on the boundary Λ = 1/alpha.
            shifted = log_likelihood_ratio(test.difference - end, var, tau2, direction)
            assert shifted == pytest.approx(math.log(20), abs=1e-9)
        assert (test.p_value < 0.05) == (test.low > 0 if direction != "worse" else test.high < 0)
    better = mixture_test(1000, 10000, 1130, 10000, direction="better")
    assert better.high == math.inf and better.p_value < 0.05
    worse = mixture_test(1000, 10000, 1130, 10000, direction="worse")
    assert worse.low == -math.inf and worse.p_value == 1.0


def test_bonferroni_multiplies_the_p_value_and_widens_the_interval() -> None:
    one = mixture_test(1000, 10000, 1100, 10000)
    three = mixture_test(1000, 10000, 1100, 10000, comparisons=3)
    assert three.p_value == pytest.approx(min(1.0, 3 * one.p_value))
    assert three.low < one.low and three.high > one.high
    at_level = mixture_test(1000, 10000, 1100, 10000, alpha=0.05 / 3)
    assert (three.low, three.high) == pytest.approx((at_level.low, at_level.high))


def test_no_information_is_no_evidence() -> None:
    for counts in [(0, 500, 0, 500), (500, 500, 500, 500)]:
        test = mixture_test(*counts)
        assert (test.p_value, test.low, test.high) == (1.0, -1.0, 1.0)


def test_repeated_looks_under_the_null_stay_under_alpha() -> None:
    """A small version of bench/rules_simulation.py: 400 A/A tests, a look every 100 visitors
    an arm up to 10,000. A fixed-horizon z-test looked at as often stops far more."""
    rng = np.random.default_rng(7)
    runs, steps, per_step = 400, 100, 100
    x_a = np.cumsum(rng.binomial(per_step, 0.1, (runs, steps)), axis=1)
    x_b = np.cumsum(rng.binomial(per_step, 0.1, (runs, steps)), axis=1)
    n = np.arange(1, steps + 1) * per_step
    p = always_valid_p_value(x_a, n, x_b, n)
    always_valid = (p < 0.05).any(axis=1).mean()
    pooled = (x_a + x_b) / (2 * n)
    z = (x_b - x_a) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
    peeking = (np.abs(z) > 1.96).any(axis=1).mean()
    assert always_valid <= 0.05
    assert peeking > 0.2
