"""Four-eyes approvals in Slack, end to end with the sandbox and the local Slack stand-in: a
command that needs approval posts Approve / Deny; another permitted person decides once, even
when two click at the same moment; the requester and strangers are refused; a request nobody
decides expires, and the channel is told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from expbridge.config.loading import load_config
from expbridge.config.settings import Settings
from tests.conftest import ADMIN_TOKEN, Ingress, running_ingress
from tests.helpers import (
    qonversion_experiment,
    run_worker_burst,
    running_worker,
    seed_experiment,
    stored_event_count,
)
from tests.service.test_chatops import post
from tests.slack_standin import (
    SIGNING_SECRET,
    block_actions,
    signed_headers,
    slash_command,
    wait_for_posts,
)

TEAM = ["U_ALICE", "U_BOB", "U_CAROL"]
CONFIG = {
    "targets": {"paywall": {"provider": "qonversion", "experiment_id": "exp_ap"}},
    "chatops": {
        "slack": {
            "permissions": [
                {"users": TEAM, "channels": ["C_GROWTH"], "commands": ["start", "pause"]},
                {
                    "users": TEAM,
                    "channels": ["C_GROWTH"],
                    "commands": ["stop"],
                    "approval": "required",
                },
                {
                    "users": ["U_DAVE"],
                    "commands": ["stop"],
                    "approval": "required",
                    "approvers": ["U_ERIN"],
                },
            ]
        }
    },
}
APPROVE, DENY = "approval.approve", "approval.deny"


@pytest.fixture
def approval_settings(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> Callable[..., Settings]:
    path = tmp_path / "expbridge.yaml"
    path.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")

    def make(**slack: Any) -> Settings:
        return make_settings(
            config=path,
            slack={
                "signing_secret": SIGNING_SECRET,
                "allowed_hosts": ["127.0.0.1"],
                **slack,
            },
        )

    return make


@pytest.fixture
async def setup(
    approval_settings: Callable[..., Settings], sandbox: Any
) -> AsyncIterator[tuple[Ingress, Settings]]:
    settings = approval_settings()
    await seed_experiment(sandbox.url, "exp_ap", status="active")
    async with running_ingress(settings, load_config(settings)) as ingress:
        yield ingress, settings


async def ask(ingress: Ingress, text: str, url: str, user: str = "U_ALICE") -> tuple[str, str]:
    """A slash command that needs approval: the approval id, and the message's text."""
    response = await post(ingress, slash_command(text, url, user_id=user))
    assert response.status == 200, await response.text()
    message = await response.json()
    assert message["response_type"] == "in_channel", message
    section, actions = message["blocks"]
    buttons = {b["action_id"]: b for b in actions["elements"]}
    assert [b["text"]["text"] for b in buttons.values()] == ["Approve", "Deny"]
    assert buttons[APPROVE]["value"] == buttons[DENY]["value"]
    return buttons[APPROVE]["value"], section["text"]["text"]


async def click(ingress: Ingress, user: str, action: str, approval: str, url: str) -> int:
    body = block_actions(user, action, approval, url)
    headers = signed_headers(body)
    async with ingress.session.post(
        ingress.url("/v1/chatops/slack/interactions"), data=body, headers=headers
    ) as response:
        return response.status


async def event_records(ingress: Ingress) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with ingress.session.get(ingress.url("/v1/events"), headers=headers) as response:
        body: dict[str, Any] = await response.json()
    return list(body["data"])


async def test_approve_queues_the_event_with_both_names(
    setup: tuple[Ingress, Settings], slack: Any, sandbox: Any
) -> None:
    ingress, settings = setup
    approval, text = await ask(ingress, "stop paywall", slack.url("/commands/T1/a1"))
    assert text.startswith(":lock: <@U_ALICE> asks to run `/exp stop paywall`")
    assert "`experiment.stop` on qonversion:exp_ap" in text
    assert await stored_event_count(settings) == 0  # nothing queued before a decision

    assert await click(ingress, "U_BOB", APPROVE, approval, slack.url("/actions/1")) == 200
    [update] = await wait_for_posts(slack, "/actions/1")
    assert update["replace_original"] is True and "blocks" in update
    assert update["text"].startswith(
        ":white_check_mark: <@U_BOB> approved <@U_ALICE>'s `/exp stop paywall`: "
        "`experiment.stop` on qonversion:exp_ap queued as event evt_"
    )
    [record] = await event_records(ingress)
    assert record["cause"]["user"] == "U_ALICE" and record["cause"]["approved_by"] == "U_BOB"
    assert record["cause"]["reason"] == "/exp stop paywall by U_ALICE, approved by U_BOB"
    assert record["id"] in update["text"]
    await run_worker_burst(settings)
    assert (await qonversion_experiment(sandbox.url, "exp_ap"))["status"] == "finished"
    outcome = (await wait_for_posts(slack, "/actions/1", 2))[1]
    assert outcome["text"].startswith(":white_check_mark: `experiment.stop`")

    # Decided once: a later click only hears what was decided.
    assert await click(ingress, "U_CAROL", DENY, approval, slack.url("/actions/2")) == 200
    [late] = await wait_for_posts(slack, "/actions/2")
    assert late == {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": "Already approved by <@U_BOB>.",
    }
    assert await stored_event_count(settings) == 1


async def test_deny_queues_nothing_and_tells_the_channel(
    setup: tuple[Ingress, Settings], slack: Any
) -> None:
    ingress, settings = setup
    approval, _ = await ask(ingress, "stop paywall in 2h", slack.url("/commands/T1/d1"))
    assert await click(ingress, "U_CAROL", DENY, approval, slack.url("/actions/d")) == 200
    [update] = await wait_for_posts(slack, "/actions/d")
    assert update["replace_original"] is True
    assert update["text"] == (
        ":no_entry: <@U_CAROL> denied <@U_ALICE>'s `/exp stop paywall in 2h`: nothing was queued."
    )
    assert await stored_event_count(settings) == 0


async def test_the_requester_and_people_not_allowed_are_refused_and_nothing_changes(
    setup: tuple[Ingress, Settings], slack: Any
) -> None:
    ingress, settings = setup
    approval, _ = await ask(ingress, "stop paywall in 1h", slack.url("/commands/T1/r1"))
    refusals = [
        ("U_ALICE", "You asked for this: another person must approve or deny it."),
        ("U_MALLORY", "Sorry <@U_MALLORY>, you may not approve or deny `/exp stop paywall in 1h`."),
    ]
    for n, (user, text) in enumerate(refusals):
        for action in (APPROVE, DENY):
            url = slack.url(f"/actions/r{n}{action}")
            assert await click(ingress, user, action, approval, url) == 200
            assert await wait_for_posts(slack, f"/actions/r{n}{action}") == [
                {"response_type": "ephemeral", "replace_original": False, "text": text}
            ]
    assert await stored_event_count(settings) == 0
    # Still pending: an allowed person decides it; with `in 1h` it is scheduled.
    assert await click(ingress, "U_BOB", APPROVE, approval, slack.url("/actions/r2")) == 200
    [update] = await wait_for_posts(slack, "/actions/r2")
    assert " scheduled as event evt_" in update["text"]
    [record] = await event_records(ingress)
    assert record["status"] == "scheduled"

    # Named approvers: only they may decide Dave's requests.
    dave, _ = await ask(ingress, "stop paywall", slack.url("/commands/T1/r3"), user="U_DAVE")
    assert await click(ingress, "U_BOB", APPROVE, dave, slack.url("/actions/r4")) == 200
    [refused] = await wait_for_posts(slack, "/actions/r4")
    assert refused["text"].startswith("Sorry <@U_BOB>")
    assert await click(ingress, "U_ERIN", APPROVE, dave, slack.url("/actions/r5")) == 200
    [approved] = await wait_for_posts(slack, "/actions/r5")
    assert approved["text"].startswith(":white_check_mark: <@U_ERIN> approved <@U_DAVE>'s")


async def test_two_clicks_at_the_same_moment_decide_once(
    setup: tuple[Ingress, Settings], slack: Any
) -> None:
    ingress, _ = setup
    approved = 0
    for n in range(8):
        approval, _ = await ask(ingress, "stop paywall in 1h", slack.url(f"/commands/T1/c{n}"))
        second = DENY if n % 2 else APPROVE
        statuses = await asyncio.gather(
            click(ingress, "U_BOB", APPROVE, approval, slack.url(f"/actions/c{n}b")),
            click(ingress, "U_CAROL", second, approval, slack.url(f"/actions/c{n}c")),
        )
        assert statuses == [200, 200]
        bob = (await wait_for_posts(slack, f"/actions/c{n}b"))[0]
        carol = (await wait_for_posts(slack, f"/actions/c{n}c"))[0]
        decided = [p for p in (bob, carol) if p.get("replace_original")]
        told = [p for p in (bob, carol) if not p.get("replace_original")]
        assert len(decided) == 1 and len(told) == 1, (bob, carol)
        assert told[0]["text"].startswith("Already ")
        approved += " approved " in decided[0]["text"]
    events = await event_records(ingress)
    # One event per approved request, however the clicks raced; none for a denied one.
    assert len(events) == approved >= 4  # the even rounds are two approvals
    assert {r["cause"]["approved_by"] for r in events} <= {"U_BOB", "U_CAROL"}


async def test_an_undecided_request_expires_and_late_clicks_hear_so(
    approval_settings: Callable[..., Settings], slack: Any, sandbox: Any
) -> None:
    settings = approval_settings(approval_ttl_s=0.5)
    await seed_experiment(sandbox.url, "exp_ap", status="active")
    async with running_ingress(settings, load_config(settings)) as ingress:
        expiring, text = await ask(ingress, "stop paywall", slack.url("/commands/T1/e1"))
        assert "approval by " in text
        async with running_worker(settings):  # its poll expires the request and says so
            [expired] = await wait_for_posts(slack, "/commands/T1/e1")
        assert expired["replace_original"] is True
        assert expired["text"].startswith(
            ":hourglass: <@U_ALICE>'s `/exp stop paywall` was not approved by "
        ) and expired["text"].endswith("it expired, nothing was queued.")
        assert await click(ingress, "U_BOB", APPROVE, expiring, slack.url("/actions/e2")) == 200
        note = {
            "response_type": "ephemeral",
            "replace_original": False,
            "text": "This approval request has expired; nothing was queued.",
        }
        assert await wait_for_posts(slack, "/actions/e2") == [note]

        # A click after the deadline, before any worker looked: it expires there and then.
        late, _ = await ask(ingress, "stop paywall", slack.url("/commands/T1/e3"))
        await asyncio.sleep(0.6)
        assert await click(ingress, "U_BOB", APPROVE, late, slack.url("/actions/e4")) == 200
        update, told = await wait_for_posts(slack, "/actions/e4", 2)
        assert update["text"].startswith(":hourglass:") and told == note
        unknown = "apr_" + "0" * 32
        assert await click(ingress, "U_BOB", APPROVE, unknown, slack.url("/actions/e5")) == 200
        assert await wait_for_posts(slack, "/actions/e5") == [note]
    assert await stored_event_count(settings) == 0


async def test_interactions_are_verified_like_commands(
    setup: tuple[Ingress, Settings], slack: Any
) -> None:
    ingress, _ = setup
    url = ingress.url("/v1/chatops/slack/interactions")
    body = block_actions("U_BOB", APPROVE, "apr_x", slack.url("/actions/v"))
    async with aiohttp.ClientSession() as session:
        bad = signed_headers(body, secret="wrong")
        async with session.post(url, data=body, headers=bad) as response:
            assert response.status == 401
        headers = signed_headers(body)
        async with session.post(url, data=body, headers=headers) as response:
            assert response.status == 200
        async with session.post(url, data=body, headers=headers) as response:
            assert response.status == 401  # the same signed request again: a replay
        junk_bodies = [
            b"payload=not-json",
            b"payload=%7B%22type%22%3A%22view_submission%22%7D",
            block_actions("U_BOB", "approval.nuke", "apr_x", slack.url("/a")),
            block_actions("U_BOB", APPROVE, "apr_x", "https://evil.example/x"),
        ]
        for junk in junk_bodies:
            async with session.post(url, data=junk, headers=signed_headers(junk)) as response:
                assert response.status == 400, junk
