"""The sample-ratio-mismatch (SRM) guard: were visitors split as planned?

A chi-square goodness-of-fit test (scipy.stats.chisquare) of the visitors per variation against
the planned split. A tiny p-value (default under 0.001, the threshold Statsig and GrowthBook
use) means the assignment or the tracking is broken, and no comparison of the variations can
be trusted. Pure; `srm_p_values` also works on a matrix of looks (one row each, for bench/).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from scipy import stats

SplitSource = Literal["rule", "provider", "equal"]


def srm_p_values(visitors: Any, planned: Sequence[float]) -> Any:
    """p-value(s) of the chi-square test of `visitors` (the last axis: variations) against the
    planned shares (any positive scale, e.g. percent). A variation planned at 0 that has
    visitors is a mismatch (p = 0); variations planned at 0 with none are left out."""
    observed = np.asarray(visitors, float)
    shares = np.asarray(planned, float)
    shares = shares / shares.sum()
    zero = shares == 0
    if zero.any():
        leaked = observed[..., zero].sum(axis=-1) > 0
        rest = (
            srm_p_values(observed[..., ~zero], shares[~zero])
            if (~zero).sum() > 1
            else np.ones(np.shape(leaked))
        )
        p = np.where(leaked, 0.0, rest)
        return float(p) if np.ndim(p) == 0 else p
    total = observed.sum(axis=-1, keepdims=True)
    expected = total * shares
    with np.errstate(invalid="ignore", divide="ignore"):
        p = stats.chisquare(observed, expected, axis=-1).pvalue
    # No visitors at all: nothing to check.
    p = np.where(total[..., 0] > 0, p, 1.0)
    return float(p) if np.ndim(p) == 0 else p


def planned_shares(
    variation_ids: Sequence[str],
    names: Sequence[str | None],
    rule_split: Mapping[str, float] | None,
    provider_split: Mapping[str, float | None] | None,
) -> tuple[list[float], SplitSource]:
    """The planned percentage of each variation: the rule's override (keyed by variation id or
    name), else the provider's (Convert variation `percentage`, Qonversion group `weight`) when
    it gives one for every variation and they add up to something, else an equal split."""
    if rule_split:
        return [
            float(rule_split.get(vid, rule_split.get(name or "", 0.0)))
            for vid, name in zip(variation_ids, names, strict=True)
        ], "rule"
    if provider_split:
        given = [provider_split.get(vid) for vid in variation_ids]
        if all(g is not None and g >= 0 for g in given) and sum(g or 0 for g in given) > 0:
            return [float(g or 0) for g in given], "provider"
    return [100.0 / len(variation_ids)] * len(variation_ids), "equal"
