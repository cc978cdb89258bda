"""The example rule `stop-when-significant`, simulated: how often it stops an A/A test (false
stops) and how often it finds a real lift (power), side by side with the provider-number rule
it replaces and with a single fixed-horizon look; and the SRM guard's detection and false alarms.

    .venv/bin/python -m bench.rules_simulation [--runs 2000] [--seed 11] [--tune] [--check]

(`make simulate` runs it with --check: it fails when a target of issue 11 is missed.)

The traffic of the issue: 10 % base conversion, 500 visitors a day per arm (Poisson visitors an
hour, split at random 50/50), evaluated hourly from day 7 to day 30, at least 1,000 visitors per
variation. The statistics are the rules' own functions (workers/rules/sequential.py, srm.py)
applied to whole arrays of looks at once.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from expbridge.config.conditions import (
    DEFAULT_ALPHA,
    DEFAULT_MIXING_SD,
    DEFAULT_SRM_P_BELOW,
    Direction,
)
from expbridge.workers.rules.sequential import always_valid_p_value
from expbridge.workers.rules.srm import srm_p_values

BASE_RATE = 0.10
PER_ARM_PER_DAY = 500
FIRST_DAY, LAST_DAY = 7, 30
MIN_VISITORS = 1000
LIFTS = (0.0, 0.05, 0.10, 0.20)
LOOKS = np.arange(FIRST_DAY * 24, LAST_DAY * 24 + 1)  # cumulative hours at each evaluation


@dataclass
class Traffic:
    """Cumulative counts at each look: arrays (runs, looks)."""

    n_a: np.ndarray
    x_a: np.ndarray
    n_b: np.ndarray
    x_b: np.ndarray


def simulate(rng: np.random.Generator, runs: int, lift: float, share_a: float = 0.5) -> Traffic:
    hours = LAST_DAY * 24
    visitors = rng.poisson(2 * PER_ARM_PER_DAY / 24, size=(runs, hours))
    to_a = rng.binomial(visitors, share_a)
    to_b = visitors - to_a
    conv_a = rng.binomial(to_a, BASE_RATE)
    conv_b = rng.binomial(to_b, BASE_RATE * (1 + lift))
    at = LOOKS - 1
    cum = [np.cumsum(a, axis=1)[:, at] for a in (to_a, conv_a, to_b, conv_b)]
    return Traffic(cum[0], cum[1], cum[2], cum[3])


def guardrail(t: Traffic) -> np.ndarray:
    return (t.n_a >= MIN_VISITORS) & (t.n_b >= MIN_VISITORS)


def srm_ok(t: Traffic) -> np.ndarray:
    p = srm_p_values(np.stack([t.n_a, t.n_b], axis=-1), [50, 50])
    return np.asarray(p >= DEFAULT_SRM_P_BELOW)


def new_rule(
    t: Traffic, mixing_sd: float = DEFAULT_MIXING_SD, direction: Direction = "better"
) -> Any:
    """Per look: +1 a significant winner, -1 a significant loser, 0 nothing (the guard on)."""
    p = always_valid_p_value(
        t.x_a,
        t.n_a,
        t.x_b,
        t.n_b,
        direction=direction,
        mixing_sd=mixing_sd,
    )
    sign = np.where(p < DEFAULT_ALPHA, np.sign(t.x_b / t.n_b - t.x_a / t.n_a), 0)
    return sign * (guardrail(t) & srm_ok(t))


def z_scores(t: Traffic) -> tuple[np.ndarray, np.ndarray]:
    """(pooled z, unpooled z) of B against A, as providers compute confidence / chance to win."""
    r_a, r_b = t.x_a / t.n_a, t.x_b / t.n_b
    pooled = (t.x_a + t.x_b) / (t.n_a + t.n_b)
    se_pooled = np.sqrt(pooled * (1 - pooled) * (1 / t.n_a + 1 / t.n_b))
    se = np.sqrt(r_a * (1 - r_a) / t.n_a + r_b * (1 - r_b) / t.n_b)
    return (r_b - r_a) / se_pooled, (r_b - r_a) / se


def old_confidence(t: Traffic) -> np.ndarray:
    """confidence_at_least 0.95: Convert's two-sided confidence, either way."""
    z, _ = z_scores(t)
    return np.sign(z) * (np.abs(z) >= stats.norm.ppf(0.975)) * guardrail(t)


def old_chance(t: Traffic) -> np.ndarray:
    """chance_to_win_at_least 0.95: the variation's or (Convert) the baseline's. The example
    rule as shipped (confidence or chance to win) stops exactly as this: a confidence of 0.95
    always comes with a chance to win of 0.95 on one side."""
    _, z = z_scores(t)
    return np.sign(z) * (np.abs(z) >= stats.norm.ppf(0.95)) * guardrail(t)


def day_30(t: Traffic) -> np.ndarray:
    """One fixed-horizon look at the end: a two-sided z-test at 0.05 (only the last column)."""
    out = np.zeros_like(t.n_a)
    out[:, -1] = old_confidence(t)[:, -1]
    return out


def first_stop(signs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the sign of each run's first stop or 0, the look index of it or -1)."""
    stopped = signs != 0
    index = np.where(stopped.any(axis=1), stopped.argmax(axis=1), -1)
    sign = np.where(index >= 0, signs[np.arange(len(signs)), np.maximum(index, 0)], 0)
    return sign, index


def stop_rates(signs: np.ndarray) -> tuple[float, float, float]:
    """(share stopped at all, share stopped declaring B the winner, median day of those)."""
    sign, index = first_stop(signs)
    wins = index[sign > 0]
    median_day = float(np.median(LOOKS[wins]) / 24) if len(wins) else float("nan")
    return float((sign != 0).mean()), float((sign > 0).mean()), median_day


NEW_RULE = "(a) new: mSPRT, better, SRM guard"
RULES = {
    NEW_RULE: new_rule,
    "(a') new, direction either": lambda t: new_rule(t, direction="either"),
    "(b) old: confidence >= 0.95": old_confidence,
    "(b') old: chance to win >= 0.95": old_chance,
    "(c) single look at day 30": day_30,
}


def table(traffic: dict[float, Traffic]) -> dict[str, list[tuple[float, float, float]]]:
    head = f"{'rule':<38}{'A/A false stops':>16}" + "".join(
        f"{f'power {lift:.0%}':>12}" for lift in LIFTS[1:]
    )
    print(head + f"{'median day (10%)':>18}")
    rows = {}
    for name, rule in RULES.items():
        cells = rows[name] = [stop_rates(rule(traffic[lift])) for lift in LIFTS]
        row = f"{name:<38}{cells[0][0]:>16.1%}" + "".join(f"{c[1]:>12.1%}" for c in cells[1:])
        print(row + f"{cells[2][2]:>18.1f}")
    return rows


def tune(traffic: dict[float, Traffic]) -> None:
    print("\nmixing_sd (tau relative to the rate): A/A false stops, power at each lift")
    for mixing_sd in (0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5):
        cells = [stop_rates(new_rule(traffic[lift], mixing_sd)) for lift in LIFTS]
        line = "  ".join(f"{c[1]:6.1%}" for c in cells[1:])
        print(f"  {mixing_sd:<6g} A/A {cells[0][0]:6.1%}   power {line}")


def srm_section(rng: np.random.Generator, runs: int, null: Traffic) -> tuple[float, float]:
    """Prints the guard's figures; returns (false alarms per evaluation, stops on 55/45)."""
    draws = 200_000
    skewed = rng.binomial(10_000, 0.52, draws)
    even = rng.binomial(10_000, 0.50, draws)

    def alarms(a: np.ndarray) -> float:
        p = srm_p_values(np.stack([a, 10_000 - a], axis=-1), [50, 50])
        return float((p < DEFAULT_SRM_P_BELOW).mean())

    per_look = 1 - srm_ok(null)
    print(f"\nSRM guard (chi-square, p < {DEFAULT_SRM_P_BELOW:g}), {draws:,} draws each:")
    print(f"  detection, 52/48 at 10,000 visitors:     {alarms(skewed):.1%}")
    print(f"  false alarms, 50/50 at 10,000 visitors:  {alarms(even):.3%}")
    print(
        f"  false alarms per hourly evaluation (A/A): {per_look.mean():.3%} "
        f"of {per_look.size:,}; runs with any: {per_look.any(axis=1).mean():.1%}"
    )
    exact = srm_p_values([11_000, 9_000], [50, 50])
    broken = {lift: simulate(rng, runs, lift, share_a=0.55) for lift in (0.0, 0.20)}
    stops = {lift: stop_rates(new_rule(t, direction="either"))[0] for lift, t in broken.items()}
    print(
        f"  11,000/9,000 on a planned 50/50: SRM p = {exact:.1e}; 55/45 traffic, "
        f"significant stops: A/A {stops[0.0]:.1%}, 20 % lift {stops[0.2]:.1%}"
    )
    return float(per_look.mean()), max(stops.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="simulated tests per scenario")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--tune", action="store_true", help="also compare mixing_sd values")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args()
    started = time.monotonic()
    rng = np.random.default_rng(args.seed)
    traffic = {lift: simulate(rng, args.runs, lift) for lift in LIFTS}
    print(
        f"{args.runs:,} tests per scenario; base {BASE_RATE:.0%}, {PER_ARM_PER_DAY}/day/arm, "
        f"hourly looks days {FIRST_DAY}-{LAST_DAY} ({len(LOOKS)} looks), "
        f"alpha {DEFAULT_ALPHA:g}, mixing_sd {DEFAULT_MIXING_SD:g}\n"
    )
    rows = table(traffic)
    if args.tune:
        tune(traffic)
    srm_alarms, broken_stops = srm_section(rng, args.runs, traffic[0.0])
    print(f"\n({time.monotonic() - started:.1f} s)")
    new = rows[NEW_RULE]
    missed = [
        name
        for name, met in [
            ("A/A false stops <= 5 %", new[0][0] <= 0.05),
            ("power at a 10 % lift >= 55 %", new[2][1] >= 0.55),
            ("SRM false alarms <= 0.1 % per evaluation", srm_alarms <= 0.001),
            ("no significant stop on a 55/45 split planned 50/50", broken_stops == 0),
        ]
        if not met
    ]
    print("targets: " + ("all met" if not missed else "MISSED " + "; ".join(missed)))
    if args.check and missed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
