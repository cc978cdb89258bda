"""Seeding the sandbox with running experiments and their reports, for the rules' end-to-end
tests: Qonversion experiments (two groups each) and one Convert experience."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.helpers import sandbox_call, seed_sandbox
from tests.workers.providers.convert.seed import BASELINE, EXPERIENCE, GOAL, PROJECT, VARIANT, seed

# (users, conversions) of one group or variation.
Numbers = tuple[int, int]


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def seed_reports(
    sandbox_url: str,
    qonversion: dict[str, tuple[float, tuple[int, int], Numbers, Numbers]],
    convert: tuple[Numbers, Numbers],
) -> None:
    """`qonversion`: experiment id -> (days running, (control weight, variant weight),
    control numbers, variant numbers); `convert`: the experience's baseline and variant
    numbers (it has run 10 days)."""
    experiments, groups = [], []
    for eid, (days, (w_a, w_b), _, _) in qonversion.items():
        experiments.append(
            {"id": eid, "name": eid, "status": "active", "started_at": days_ago(days).isoformat()}
        )
        groups += [
            {
                "id": f"{eid}_a",
                "experiment_id": eid,
                "name": "A",
                "is_control": True,
                "weight": w_a,
            },
            {"id": f"{eid}_b", "experiment_id": eid, "name": "B", "weight": w_b},
        ]
    experience = seed(experience_status="active", start_time=int(days_ago(10).timestamp()))
    await seed_sandbox(
        sandbox_url, qonversion={"experiments": experiments, "groups": groups}, convert=experience
    )
    for eid, (_, _, (a_users, a_conv), (b_users, b_conv)) in qonversion.items():
        numbers = {
            f"{eid}_a": {"users": a_users, "conversions": a_conv},
            f"{eid}_b": {"users": b_users, "conversions": b_conv},
        }
        body = {"provider": "qonversion", "experiment_id": eid, "groups": numbers}
        await sandbox_call(sandbox_url, "POST", "/_sandbox/reports", body)
    (base_visitors, base_conv), (variant_visitors, variant_conv) = convert
    variations = {
        BASELINE: {"visitors": base_visitors, "conversions": base_conv},
        VARIANT: {"visitors": variant_visitors, "conversions": variant_conv},
    }
    body = {
        "provider": "convert",
        "project_id": PROJECT,
        "experience_id": EXPERIENCE,
        "goal_id": GOAL,
        "variations": variations,
    }
    await sandbox_call(sandbox_url, "POST", "/_sandbox/reports", body)
