"""The bridge's always-valid test of a variation against the baseline, on raw counts: the
normal-approximation mixture sequential probability ratio test (mSPRT) for a difference of two
conversion rates. Pure; works on floats and, elementwise, on numpy arrays (bench/ uses it so).

Sources: Johari, Koomen, Pekelis & Walsh, "Peeking at A/B Tests: Why it matters, and what to do
about it", KDD 2017 (the mixture SPRT, §4); Johari, Pekelis & Walsh, "Always Valid Inference:
Continuous Monitoring of A/B Tests", Operations Research 70(3), 2022, arXiv:1512.04922 (always
valid p-values and confidence intervals; the basis of Optimizely's Stats Engine).

The statistic. Let θ = p_B - p_A, its estimate d = x_B/n_B - x_A/n_A and V the estimate's
variance, by plug-in p̂(1 - p̂)/n for each arm. With d ~ N(θ, V) and, under the alternative, θ
drawn from the mixing distribution N(θ₀, τ²), the mixture likelihood ratio against H₀: θ = θ₀ is

    Λ = sqrt(V / (V + τ²)) · exp( τ² (d - θ₀)² / (2 V (V + τ²)) ).

(For n visitors an arm with variance s² each, V = 2s²/n and this is the paper's
Λₙ = sqrt(2s² / (2s² + nτ²)) · exp(n²τ²(Ȳₙ - X̄ₙ - θ₀)² / (4s²(2s² + nτ²))).)
Under H₀, Λ is a non-negative martingale with mean 1, so by Ville's inequality
P(Λₙ ≥ 1/alpha at some look n) ≤ alpha: "reject when Λ ≥ 1/alpha" may be checked after every
visitor.

* The always-valid p-value is min(1, 1/Λ). The paper keeps the running minimum over looks; a
  rule fires the first time the value drops under alpha, which is the same stopping time, and the
  current value is itself valid at any stopping time, so nothing has to be remembered.
* The always-valid confidence interval is the set of θ₀ the test does not reject:
      d ± sqrt( 2 V (V + τ²) / τ² · (log(1/alpha) + ½ log((V + τ²) / V)) ).
* One direction (H₀: θ ≤ θ₀ against θ > θ₀, a "better" rule; "worse" is the mirror image):
  the same construction with the mixing distribution on the alternative's side only, the half
  normal N⁺(θ₀, τ²). Integrating the likelihood ratio against it gives

      Λ⁺ = 2 Λ · Φ( (d - θ₀) τ / sqrt(V (V + τ²)) ),

  again a mean-1 martingale at θ = θ₀ (a supermartingale for θ < θ₀), so Ville's inequality
  holds and Λ⁺ ≥ 1/alpha is a valid one-sided stop. It is about twice Λ when the evidence points
  the wanted way, so a directional rule is more powerful than "either" — and never stops the
  other way. Λ⁺ falls as θ₀ rises, so the always-valid lower bound L (Λ⁺(L) = 1/alpha) is found by
  bisection between d - (the two-sided half width) and d.
* k variations against one baseline: Bonferroni, each test at alpha/k (p-value times k), so the
  chance that any of them stops falsely stays under alpha.

τ, the mixing parameter. The test has most power for effects of about the size of τ at the
sample size where the decision is expected; Johari et al. advise choosing it from the effect
sizes one means to detect (Optimizely fits it to past experiments). The rules give it relative
to the conversion rate (`mixing_sd`, default 0.1: effects around 10 % of the rate); here
τ = mixing_sd · the pooled rate, so one setting fits a 2 % and a 30 % base rate alike.
`python -m bench.rules_simulation --tune` shows how the default was chosen: over 0.025-0.5,
power for a 10 % lift on the example rule's traffic peaks at 0.1 (65 % for "better"), with
false stops far under alpha everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from expbridge.config.conditions import DEFAULT_ALPHA, DEFAULT_MIXING_SD, Direction

BISECTIONS = 60  # halves the bracket to ~1e-18 of the two-sided half width


@dataclass(frozen=True)
class MixtureTest:
    """One variation against the baseline. Fields are floats, or arrays for array inputs.

    difference: d = rate_B - rate_A; low, high: the always-valid interval of the difference at
    alpha/comparisons (one-sided for a direction: high = +inf for "better", low = -inf for
    "worse"); p_value: the always-valid p-value of the direction, Bonferroni-adjusted (at most
    1). Where there is no information yet (no variance or no conversions), p_value is 1 and the
    interval is (-1, 1)."""

    difference: Any
    low: Any
    high: Any
    p_value: Any


def log_likelihood_ratio(difference: Any, variance: Any, tau2: Any, direction: Direction) -> Any:
    """log Λ (either) or log Λ⁺ (better; worse is better of -d) for H₀ at the shifted origin:
    `difference` is d - θ₀. variance and tau2 must be > 0."""
    shrink = variance + tau2
    two_sided = 0.5 * np.log(variance / shrink) + tau2 * difference**2 / (2 * variance * shrink)
    if direction == "either":
        return two_sided
    toward = difference if direction == "better" else -difference
    scale = np.sqrt(tau2 / (variance * shrink))
    return np.log(2.0) + two_sided + special.log_ndtr(toward * scale)


def _one_sided_bound(
    difference: Any, variance: Any, tau2: Any, level: float, direction: Direction
) -> Any:
    """The θ₀ where Λ⁺ (of the direction) equals 1/level, by bisection (monotone in θ₀)."""
    sign = 1.0 if direction == "better" else -1.0
    half = _two_sided_half_width(variance, tau2, level)
    # In the direction's frame (better): Λ⁺ ≥ 1/level at d - half, < 1 at d.
    near, far = np.zeros_like(difference), half
    target = np.log(1 / level)
    for _ in range(BISECTIONS):
        middle = (near + far) / 2
        above = log_likelihood_ratio(middle, variance, tau2, "better") >= target
        far = np.where(above, middle, far)
        near = np.where(above, near, middle)
    return difference - sign * (near + far) / 2


def _two_sided_half_width(variance: Any, tau2: Any, level: float) -> Any:
    shrink = variance + tau2
    return np.sqrt(
        2 * variance * shrink / tau2 * (np.log(1 / level) + 0.5 * np.log(shrink / variance))
    )


def _prepared(
    conversions_a: Any, visitors_a: Any, conversions_b: Any, visitors_b: Any, mixing_sd: float
) -> tuple[Any, Any, Any, Any]:
    """(d, V, τ², informative); V and τ² are 1 where uninformative, to keep formulas finite."""
    x_a, n_a = np.asarray(conversions_a, float), np.asarray(visitors_a, float)
    x_b, n_b = np.asarray(conversions_b, float), np.asarray(visitors_b, float)
    rate_a, rate_b = x_a / n_a, x_b / n_b
    difference = rate_b - rate_a
    variance = rate_a * (1 - rate_a) / n_a + rate_b * (1 - rate_b) / n_b
    tau2 = (mixing_sd * (x_a + x_b) / (n_a + n_b)) ** 2
    informative = (variance > 0) & (tau2 > 0)
    return (
        difference,
        np.where(informative, variance, 1.0),
        np.where(informative, tau2, 1.0),
        informative,
    )


def always_valid_p_value(
    conversions_a: Any,
    visitors_a: Any,
    conversions_b: Any,
    visitors_b: Any,
    *,
    direction: Direction = "either",
    mixing_sd: float = DEFAULT_MIXING_SD,
    comparisons: int = 1,
) -> Any:
    """min(1, k/Λ) of B against the baseline A (k = comparisons). Counts must be valid
    (0 ≤ x ≤ n, n > 0): the engine checks reports before calling this."""
    d, v, t2, informative = _prepared(
        conversions_a, visitors_a, conversions_b, visitors_b, mixing_sd
    )
    log_lr = np.where(informative, log_likelihood_ratio(d, v, t2, direction), 0.0)
    return np.minimum(1.0, comparisons * np.exp(-log_lr))


def mixture_test(
    conversions_a: Any,
    visitors_a: Any,
    conversions_b: Any,
    visitors_b: Any,
    *,
    direction: Direction = "either",
    alpha: float = DEFAULT_ALPHA,
    mixing_sd: float = DEFAULT_MIXING_SD,
    comparisons: int = 1,
) -> MixtureTest:
    """The p-value and the always-valid interval at alpha/comparisons (see `MixtureTest`)."""
    counts = (conversions_a, visitors_a, conversions_b, visitors_b)
    d, v, t2, informative = _prepared(*counts, mixing_sd)
    p_value = always_valid_p_value(
        *counts, direction=direction, mixing_sd=mixing_sd, comparisons=comparisons
    )
    level = alpha / comparisons
    if direction == "either":
        half = _two_sided_half_width(v, t2, level)
        low, high = d - half, d + half
    elif direction == "better":
        low, high = _one_sided_bound(d, v, t2, level, direction), np.inf
    else:
        low, high = -np.inf, _one_sided_bound(d, v, t2, level, direction)
    low = np.where(informative, low, -1.0)
    high = np.where(informative, high, 1.0)
    if np.ndim(d) == 0:
        return MixtureTest(float(d), float(low), float(high), float(p_value))
    return MixtureTest(d, low, high, p_value)
