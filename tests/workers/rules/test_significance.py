"""The bridge's own test end to end against the sandbox: it does not fire on evidence only a
fixed-horizon test accepts, fires on decisive evidence (naming the variation, with statistics in
the evaluation, the API and the queued event's cause), tells winners from losers, and refuses
to decide on a sample ratio mismatch, which a rule may act on itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from structlog.testing import capture_logs

from expbridge.config.loading import load_config
from expbridge.config.settings import Settings
from expbridge.workers.rules.schedule import evaluate_scheduled_rules
from expbridge.workers.worker import worker_deps
from tests.conftest import ADMIN_TOKEN, Ingress, running_ingress
from tests.helpers import qonversion_experiment, run_worker_burst
from tests.workers.providers.convert.seed import EXPERIENCE, GOAL, PROJECT, VARIANT
from tests.workers.rules.reports import seed_reports as seed_rule_reports

GUARDS = {"min_runtime_days": 7, "min_visitors_per_variation": 1000}
WINNERS = [
    "qonversion:exp_close",
    "qonversion:exp_clear",
    "qonversion:exp_lose",
    "qonversion:exp_skewed",
    "qonversion:exp_weighted",
    f"convert:{PROJECT}/{EXPERIENCE}",
]
RULES = [
    {
        "name": "stop-winners",
        "trigger": {"schedule": "1h"},
        "targets": WINNERS,
        "goal_id": GOAL,
        "when": {**GUARDS, "significant": "better"},
        "actions": [{"event": "experiment.stop"}],
    },
    # The provider's number on the same evidence, for contrast (a start-up warning).
    {
        "name": "old-stop",
        "trigger": {"schedule": "1h"},
        "targets": ["qonversion:exp_close"],
        "when": {**GUARDS, "chance_to_win_at_least": 0.95},
        "actions": [{"event": "experiment.stop"}],
        "dry_run": True,
    },
    {
        "name": "pause-losers",
        "trigger": {"schedule": "1h"},
        "targets": ["qonversion:exp_lose"],
        "when": {**GUARDS, "significant": "worse"},
        "actions": [{"event": "experiment.pause"}],
    },
    {
        "name": "pause-on-srm",
        "trigger": {"schedule": "1h"},
        "targets": ["qonversion:exp_skewed"],
        "when": {"srm": True},
        "actions": [{"event": "experiment.pause"}],
    },
]
# experiment: (group weights, (control users, conversions), (variant users, conversions))
QONVERSION = {
    "exp_close": ((50, 50), (1000, 100), (1000, 130)),  # fixed-horizon p ≈ 0.04
    "exp_clear": ((50, 50), (10000, 1000), (10000, 1300)),  # decisive
    "exp_lose": ((50, 50), (10000, 1300), (10000, 1000)),  # decisively worse
    "exp_skewed": ((50, 50), (11000, 1100), (9000, 1170)),  # decisive, but 11,000 / 9,000
    "exp_weighted": ((80, 20), (8000, 800), (2000, 200)),  # split as planned (80/20)
}


async def seed_reports(sandbox_url: str) -> None:
    groups = {eid: (10, weights, a, b) for eid, (weights, a, b) in QONVERSION.items()}
    await seed_rule_reports(sandbox_url, groups, convert=((10000, 1000), (10000, 1250)))


@pytest.fixture
async def setup(
    make_settings: Callable[..., Settings], tmp_path: Path, sandbox: Any
) -> AsyncIterator[tuple[Ingress, Settings]]:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": RULES}), encoding="utf-8")
    settings = make_settings(config=path)
    await seed_reports(sandbox.url)
    async with running_ingress(settings, load_config(settings)) as ingress:
        yield ingress, settings


async def test_stops_only_on_sound_evidence_and_refuses_on_a_mismatch(
    setup: tuple[Ingress, Settings], sandbox: Any
) -> None:
    ingress, settings = setup
    with capture_logs() as logs:
        async with worker_deps(settings) as deps:
            found = {
                (e.rule, e.target): e for e in await evaluate_scheduled_rules(deps, only_due=False)
            }
    warnings = [line for line in logs if line["event"] == "rule decides on fixed-horizon numbers"]
    assert len(warnings) == 1 and "'old-stop'" in warnings[0]["detail"]

    close = found[("stop-winners", "qonversion:exp_close")]
    assert (close.outcome, close.condition) == ("not_met", None)
    assert close.reasons[-1].startswith("not significant yet (always-valid test, better")
    assert close.statistics is not None and close.statistics.variations[1].p_value > 0.2
    assert found[("old-stop", "qonversion:exp_close")].outcome == "dry_run"  # it would stop

    clear = found[("stop-winners", "qonversion:exp_clear")]
    assert (clear.outcome, clear.condition, clear.variation) == (
        "fired",
        "significant",
        "exp_clear_b",
    )
    assert clear.reasons[-1].startswith("B is significantly better than the baseline")
    stats = clear.statistics
    assert stats is not None and (stats.direction, stats.comparisons, stats.srm) == (
        "better",
        1,
        False,
    )
    baseline, variant = stats.variations
    assert baseline.is_baseline and baseline.p_value is None
    assert variant.difference == pytest.approx(0.03)
    assert variant.relative_lift == pytest.approx(0.3)
    assert 0 < variant.interval_low < 0.03 and variant.interval_high is None
    assert variant.p_value < 1e-6 and variant.significant == "better"
    assert stats.srm_p_value == pytest.approx(1.0) and stats.planned_split_source == "provider"
    assert [v.planned_percent for v in stats.variations] == [50, 50]
    fired_log = next(
        line
        for line in logs
        if line["event"] == "rule fired" and line["target"] == "qonversion:exp_clear"
    )
    assert fired_log["statistics"]["variations"][1]["p_value"] == variant.p_value

    lose = found[("stop-winners", "qonversion:exp_lose")]
    assert lose.outcome == "not_met" and lose.statistics is not None
    assert lose.statistics.variations[1].p_value == 1.0  # "better" never stops on a loser
    paused = found[("pause-losers", "qonversion:exp_lose")]
    assert (paused.outcome, paused.variation) == ("fired", "exp_lose_b")
    assert paused.reasons[-1].startswith("B is significantly worse than the baseline")

    skewed = found[("stop-winners", "qonversion:exp_skewed")]
    assert (skewed.outcome, skewed.condition, skewed.events) == ("not_met", "srm", [])
    assert skewed.reasons[-1].startswith(
        "sample ratio mismatch: visitors 11000/9000 against the planned 50/50 % (provider)"
    )
    assert skewed.reasons[-1].endswith("no significance decision is taken")
    assert skewed.statistics is not None and skewed.statistics.srm
    assert all(v.significant is None for v in skewed.statistics.variations)
    on_srm = found[("pause-on-srm", "qonversion:exp_skewed")]
    assert (on_srm.outcome, on_srm.condition) == ("fired", "srm")

    weighted = found[("stop-winners", "qonversion:exp_weighted")]
    assert weighted.outcome == "not_met" and weighted.condition is None
    assert weighted.statistics is not None and not weighted.statistics.srm
    assert [v.planned_percent for v in weighted.statistics.variations] == [80, 20]

    convert = found[("stop-winners", f"convert:{PROJECT}/{EXPERIENCE}")]
    assert (convert.outcome, convert.variation) == ("fired", VARIANT)

    await run_worker_burst(settings)
    statuses = {
        eid: (await qonversion_experiment(sandbox.url, eid))["status"] for eid in QONVERSION
    }
    assert statuses == {
        "exp_close": "active",
        "exp_clear": "finished",
        "exp_lose": "paused",
        "exp_skewed": "paused",
        "exp_weighted": "active",
    }
    stop = await ingress.get_record(clear.events[0], token=ADMIN_TOKEN)
    assert stop["cause"]["condition"] == "significant"
    assert stop["cause"]["statistics"]["variations"][1]["significant"] == "better"
    assert stop["cause"]["reason"] == "; ".join(clear.reasons)

    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    url = ingress.url("/v1/rules/evaluations?rule=stop-winners&target=qonversion:exp_skewed")
    async with ingress.session.get(url, headers=headers) as response:
        assert response.status == 200
        [listed] = (await response.json())["data"]
    assert listed["condition"] == "srm" and listed["statistics"]["srm"] is True
    assert listed["statistics"]["srm_p_value"] < 1e-40
