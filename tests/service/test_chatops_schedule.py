"""Slack: `/exp stop <target> at <time>` / `in <duration>`, `/exp scheduled`, `/exp cancel`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from expbridge.config.loading import load_config
from expbridge.config.settings import Settings
from expbridge.events.schedule import FORMS
from tests.conftest import ADMIN_TOKEN, Ingress, running_ingress
from tests.helpers import qonversion_experiment, running_worker, seed_experiment, wait_status
from tests.service.test_chatops import command
from tests.slack_standin import SIGNING_SECRET

CONFIG = {
    "targets": {"paywall": {"provider": "qonversion", "experiment_id": "exp_sc"}},
    "chatops": {
        "slack": {
            "permissions": [
                {"users": ["U_ALICE"], "commands": ["start", "pause", "stop", "cancel"]},
                {"users": ["*"], "commands": ["status"]},
            ]
        }
    },
}
EVENT_ID = re.compile(r"evt_[0-9a-f]{32}")


@pytest.fixture
async def setup(
    make_settings: Callable[..., Settings], tmp_path: Path, slack: Any, sandbox: Any
) -> AsyncIterator[tuple[Ingress, Settings]]:
    path = tmp_path / "expbridge.yaml"
    path.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    settings = make_settings(
        config=path, slack={"signing_secret": SIGNING_SECRET, "allowed_hosts": ["127.0.0.1"]}
    )
    await seed_experiment(sandbox.url, "exp_sc", status="draft")
    async with running_ingress(settings, load_config(settings)) as ingress:
        yield ingress, settings


def event_id_in(answer: str) -> str:
    match = EVENT_ID.search(answer)
    assert match, answer
    return match.group()


async def test_at_and_in_schedule_and_scheduled_lists_them(
    setup: tuple[Ingress, Settings], slack: Any
) -> None:
    ingress, _ = setup
    url = slack.url("/commands/T1/s1")
    later = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    at_answer = await command(ingress, f"stop paywall at {later:%Y-%m-%dT%H:%M:%SZ}", url)
    assert at_answer.startswith(
        f"Scheduled `experiment.stop` for qonversion:exp_sc at {later:%Y-%m-%d %H:%M:%S} UTC: "
    )
    stop = event_id_in(at_answer)
    before = datetime.now(UTC)
    pause = event_id_in(await command(ingress, "pause paywall in 2h", url))
    record = await ingress.get_record(pause, token=ADMIN_TOKEN)
    assert record["status"] == "scheduled"
    due = datetime.fromisoformat(record["not_before"])
    assert timedelta(hours=2) <= due - before < timedelta(hours=2, seconds=5)
    assert (await ingress.get_record(stop, token=ADMIN_TOKEN))["cause"]["user"] == "U_ALICE"

    listing = await command(ingress, "scheduled", url, user_id="U_BOB")  # status permission
    assert listing.startswith("Scheduled:\n• `experiment.pause` qonversion:exp_sc at ")
    assert listing.index(pause) < listing.index(stop)  # soonest first
    assert "by <@U_ALICE>" in listing
    assert (await command(ingress, "scheduled paywall", url)).startswith(
        "Scheduled for qonversion:exp_sc:"
    )
    assert await command(ingress, "scheduled qonversion:exp_other", url) == (
        "Nothing is scheduled for qonversion:exp_other."
    )


@pytest.mark.parametrize(
    "text",
    [
        "stop paywall at tomorrow",
        "stop paywall at 2026-12-07T09:00:00",
        "stop paywall in 3 days",
        "stop paywall in 3y",
        "stop paywall soon",
        "stop paywall in 999d",
    ],
)
async def test_when_it_cannot_be_read_the_answer_says_the_accepted_forms(
    setup: tuple[Ingress, Settings], slack: Any, text: str
) -> None:
    ingress, _ = setup
    answer = await command(ingress, text, slack.url("/commands/T1/s2"))
    assert FORMS in answer and "Queued" not in answer and "Scheduled" not in answer


async def test_cancel_needs_its_permission_and_a_scheduled_one_never_runs(
    setup: tuple[Ingress, Settings], slack: Any, sandbox: Any
) -> None:
    ingress, settings = setup
    url = slack.url("/commands/T1/s3")
    doomed = event_id_in(await command(ingress, "start paywall in 1s", url))
    refused = await command(ingress, f"cancel {doomed}", url, user_id="U_BOB")
    assert refused.startswith("Sorry <@U_BOB>, you may not run `/exp cancel`")
    cancelled = await command(ingress, f"cancel {doomed}", url)
    assert cancelled == f"Cancelled `experiment.start` on qonversion:exp_sc ({doomed})."
    assert await command(ingress, f"cancel {doomed}", url) == cancelled  # the same again
    assert await command(ingress, "cancel evt_nope", url) == "No event evt_nope."
    record = await ingress.get_record(doomed, token=ADMIN_TOKEN)
    assert (record["status"], record["cancelled_by"]) == ("cancelled", "slack:U_ALICE")

    started = event_id_in(await command(ingress, "start paywall in 1s", url))
    async with running_worker(settings):
        await wait_status(ingress, started, "succeeded", "dead")
    assert (await qonversion_experiment(sandbox.url, "exp_sc"))["status"] == "active"
    answer = await command(ingress, f"cancel {started}", url)
    assert answer.endswith("it has already finished (succeeded).")
    [outcome] = slack.posted_to("/commands/T1/s3")
    assert started in outcome["text"] and "succeeded" in outcome["text"]
