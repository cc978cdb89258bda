"""Convert experience reports. [inferred] One shape for v1 and v2, see `build_report`."""

from typing import Any

from aiohttp import web

from expbridge.sandbox.convert import errors
from expbridge.sandbox.convert.handlers import target
from expbridge.sandbox.convert.http import json, parse_body, seed_of, state_of
from expbridge.sandbox.convert.list_bodies import ReportRangeV1, ReportRequestV2
from expbridge.sandbox.convert.ops import ref_id
from expbridge.sandbox.convert.state import ConvertState
from expbridge.sandbox.stats import (
    Counts,
    confidence,
    default_counts,
    planned_shares,
    probability_to_beat,
    relative_change,
)

DEFAULT_CONFIDENCE_LEVEL = 95.0


def variation_counts(
    state: ConvertState, seed: int, experience: dict[str, Any], goal_id: str
) -> list[Counts]:
    """Numbers set through the control plane (per goal, else for every goal), else defaults
    that follow the planned split (the variations' `percentage`)."""
    eid = experience["id"]
    per_goal = state.report_numbers.get((eid, goal_id), {})
    every_goal = state.report_numbers.get((eid, None), {})
    out = []
    variations = experience["variations"]
    shares = planned_shares([v.get("percentage") for v in variations])
    for variation, share in zip(variations, shares, strict=True):
        vid = str(variation["id"])
        if vid in per_goal:
            out.append(per_goal[vid])
        elif vid in every_goal:
            out.append(every_goal[vid])
        elif experience["experience_status"] == "draft":
            out.append(Counts(0, 0))
        else:
            out.append(default_counts(seed, ("convert", str(eid), goal_id), vid, share))
    return out


def _metric(
    baseline: Counts, numbers: Counts, is_baseline: bool, chance: float, level: float
) -> dict[str, Any]:
    change = None if is_baseline else relative_change(baseline, numbers)
    conf = 0.0 if is_baseline else confidence(baseline, numbers) * 100
    return {
        "metric_type": "conversion_rate",
        "metric_total": numbers.conversions,
        "metric_value": round(numbers.rate * 100, 4),
        "metric_change": None if change is None else round(change * 100, 4),
        "confidence": round(conf, 4),
        "statistically_significant": not is_baseline and conf >= level,
        "chance_to_win": round(chance, 4),
    }


def _chances(counts: list[Counts]) -> list[float]:
    """Each variation: P(beats baseline); baseline: 100 - the best of those. 50 without data."""
    others = []
    for numbers in counts[1:]:
        p = probability_to_beat(counts[0], numbers)
        others.append(50.0 if p is None else p * 100)
    return [100.0 - max(others, default=0.0), *others]


def goal_report(
    state: ConvertState, seed: int, experience: dict[str, Any], goal: dict[str, Any]
) -> dict[str, Any]:
    counts = variation_counts(state, seed, experience, str(goal["goal_id"]))
    chances = _chances(counts)
    level = float(experience.get("confidence") or DEFAULT_CONFIDENCE_LEVEL)
    rows = []
    for i, (variation, numbers) in enumerate(zip(experience["variations"], counts, strict=True)):
        rows.append(
            {
                "variation_id": str(variation["id"]),
                "variation_name": variation["name"],
                "is_baseline": i == 0,
                "visitors": numbers.total,
                "metrics": [_metric(counts[0], numbers, i == 0, chances[i], level)],
            }
        )
    return {"goal_id": str(goal["goal_id"]), "goal_name": goal["goal_name"], "variations": rows}


def build_report(
    state: ConvertState, seed: int, experience: dict[str, Any], goal_ids: list[str] | None
) -> dict[str, Any]:
    """Goals named by the caller (any goal of the project), else the experience's goals."""
    project_id = experience["project_id"]
    if goal_ids:
        goals = []
        for gid in goal_ids:
            goal = state.goals.get(gid)
            if goal is None or goal["project_id"] != project_id:
                raise errors.not_found(f"Goal {gid}")
            goals.append(goal)
    else:
        attached = [ref_id(ref, "goal_id") for ref in experience["goals"]]
        goals = [state.goals[g] for g in attached if g in state.goals]
    return {
        "data": {
            "experience_id": str(experience["id"]),
            "goals": [goal_report(state, seed, experience, g) for g in goals],
        }
    }


def _check_range(start: float | None, end: float | None) -> None:
    if start is not None and end is not None and start > end:
        raise errors.validation_failed([("end_timestamp", "must not be before start_timestamp")])


async def v1_report(request: web.Request) -> web.StreamResponse:
    experience = target(request, "experiences")
    body = await parse_body(request, ReportRangeV1, allow_empty=True)
    # [inferred] The sandbox keeps totals only, so the time range is checked, not applied.
    _check_range(body.start_timestamp, body.end_timestamp)
    goal_id = request.match_info.get("gid")
    goals = [goal_id] if goal_id is not None else None
    return json(build_report(state_of(request), seed_of(request), experience, goals))


async def v2_aggregated_report(request: web.Request) -> web.StreamResponse:
    experience = target(request, "experiences")
    body = await parse_body(request, ReportRequestV2, allow_empty=True)
    _check_range(body.start_time, body.end_time)
    goals = [str(g) for g in body.goals] or None
    return json(build_report(state_of(request), seed_of(request), experience, goals))
