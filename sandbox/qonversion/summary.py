"""GET /experiments/summary. [inferred] The response shape is not published; see SHAPE."""

from typing import Any

from aiohttp import web

from expbridge.sandbox.qonversion import errors
from expbridge.sandbox.qonversion.bodies import id_problems
from expbridge.sandbox.qonversion.http import json, seed_of, state_of
from expbridge.sandbox.qonversion.state import QonversionState
from expbridge.sandbox.stats import (
    Counts,
    default_counts,
    planned_shares,
    probability_to_beat,
    relative_change,
)

FILTER_PARAM = "filter[experiment_uid][]"
MAX_IDS = 50
# [inferred] One object per experiment:
# {"object": "experiment_summary", "experiment_id", "status", "primary_metric",
#  "groups": [{"id", "name", "is_control", "users", "conversions", "conversion_rate" (0..1),
#              "uplift" (relative to control, null for control),
#              "probability_to_beat_control" (0..1, null for control)}]}
SHAPE = "experiment_summary"


def group_counts(state: QonversionState, seed: int, experiment: dict[str, Any]) -> list[Counts]:
    """Numbers set through the control plane, else defaults that follow the groups' weights."""
    overrides = state.report_numbers.get(experiment["id"], {})
    groups = state.groups_of(experiment["id"])
    shares = planned_shares([g.get("weight") for g in groups])
    out = []
    for group, share in zip(groups, shares, strict=True):
        if group["id"] in overrides:
            out.append(overrides[group["id"]])
        elif experiment["status"] == "draft":
            out.append(Counts(0, 0))
        else:
            out.append(default_counts(seed, ("qonversion", experiment["id"]), group["id"], share))
    return out


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def summarize(state: QonversionState, seed: int, experiment: dict[str, Any]) -> dict[str, Any]:
    groups = state.groups_of(experiment["id"])
    counts = group_counts(state, seed, experiment)
    control = next((i for i, g in enumerate(groups) if g["is_control"]), 0)
    rows = []
    for i, (group, numbers) in enumerate(zip(groups, counts, strict=True)):
        is_control = i == control
        rows.append(
            {
                "id": group["id"],
                "name": group["name"],
                "is_control": bool(group["is_control"]),
                "users": numbers.total,
                "conversions": numbers.conversions,
                "conversion_rate": round(numbers.rate, 6),
                "uplift": None
                if is_control
                else _rounded(relative_change(counts[control], numbers)),
                "probability_to_beat_control": None
                if is_control
                else _rounded(probability_to_beat(counts[control], numbers)),
            }
        )
    return {
        "object": SHAPE,
        "experiment_id": experiment["id"],
        "status": experiment["status"],
        "primary_metric": experiment["primary_metric"],
        "groups": rows,
    }


async def experiments_summary(request: web.Request) -> web.Response:
    refs = request.query.getall(FILTER_PARAM, [])
    if not 1 <= len(refs) <= MAX_IDS:
        raise errors.invalid_parameter([(FILTER_PARAM, f"give 1..{MAX_IDS} experiment ids")])
    problems = [(FILTER_PARAM, p) for ref in refs for p in id_problems("experiment_uid", ref)]
    if problems:
        raise errors.invalid_parameter(problems)
    state = state_of(request)
    found = {ref: state.find_experiment(ref) for ref in refs}
    missing = [ref for ref, exp in found.items() if exp is None]
    if missing:
        # [inferred] Unknown ids fail the whole call rather than being skipped.
        raise errors.not_found(f"Experiments {missing!r}")
    seed = seed_of(request)
    data = [summarize(state, seed, exp) for exp in found.values() if exp is not None]
    return json({"object": "list", "data": data})
