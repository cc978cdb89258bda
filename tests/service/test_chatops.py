"""Slack ChatOps end to end: a signed slash command becomes an event, the sandbox changes, and
the outcome is posted to the response_url (a local stand-in for Slack). Bad signatures, stale
timestamps, replays, users without permission and foreign response_urls are refused."""

from __future__ import annotations

import re
import time
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
    add_fault,
    qonversion_experiment,
    run_worker_burst,
    seed_experiment,
    stored_event_count,
)
from tests.raw_http import raw_request
from tests.slack_standin import SIGNING_SECRET, signed_headers, slash_command

CONFIG = {
    "targets": {"paywall": {"provider": "qonversion", "experiment_id": "exp_c"}},
    "chatops": {
        "slack": {
            "permissions": [
                {
                    "users": ["U_ALICE"],
                    "channels": ["C_GROWTH"],
                    "commands": ["start", "pause", "stop"],
                },
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
        config=path,
        slack={
            "signing_secret": SIGNING_SECRET,
            "allowed_hosts": ["127.0.0.1"],
            "dead_letter_webhook_url": slack.url("/dead"),
        },
    )
    await seed_experiment(sandbox.url, "exp_c", status="draft")
    async with running_ingress(settings, load_config(settings)) as ingress:
        yield ingress, settings


async def post(
    ingress: Ingress, body: bytes, headers: dict[str, str] | None = None
) -> aiohttp.ClientResponse:
    headers = headers if headers is not None else signed_headers(body)
    return await ingress.session.post(ingress.url("/v1/chatops/slack"), data=body, headers=headers)


async def command(ingress: Ingress, text: str, response_url: str, **fields: str) -> str:
    response = await post(ingress, slash_command(text, response_url, **fields))
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["response_type"] == "ephemeral"
    text_: str = body["text"]
    return text_


async def test_a_signed_command_changes_the_sandbox_and_the_outcome_is_posted(
    setup: tuple[Ingress, Settings], sandbox: Any, slack: Any
) -> None:
    ingress, settings = setup
    reply_url = slack.url("/commands/T1/1")
    started = time.monotonic()
    answer = await command(ingress, "start paywall", reply_url)
    assert time.monotonic() - started < 3  # Slack's limit for the first answer
    match = EVENT_ID.search(answer)
    assert match and answer.startswith("Queued `experiment.start` for qonversion:exp_c: event ")

    await run_worker_burst(settings)
    assert (await qonversion_experiment(sandbox.url, "exp_c"))["status"] == "active"
    assert slack.posted_to("/commands/T1/1") == [
        {
            "response_type": "ephemeral",
            "replace_original": False,
            "text": f":white_check_mark: `experiment.start` on qonversion:exp_c succeeded "
            f"(event {match.group()})",
        }
    ]
    record = await ingress.get_record(match.group(), token=ADMIN_TOKEN)
    assert (record["source"], record["status"]) == ("slack", "succeeded")
    assert record["cause"] == {
        "kind": "chatops",
        "reason": "/exp start paywall by U_ALICE",
        "rule": None,
        "condition": None,
        "statistics": None,
        "trigger_event_id": None,
        "user": "U_ALICE",
        "channel": "C_GROWTH",
        "command": "/exp start paywall",
        "approved_by": None,
    }
    assert "reply_to" not in record  # the response_url is a credential: kept internal

    status = await command(ingress, "status qonversion:exp_c", reply_url, user_id="U_BOB")
    assert status.startswith("Latest events for qonversion:exp_c:\n• `experiment.start` succeeded")
    assert "by <@U_ALICE>" in status and match.group() in status


async def test_refusals(setup: tuple[Ingress, Settings], slack: Any) -> None:
    ingress, settings = setup
    reply_url = slack.url("/commands/T1/2")
    body = slash_command("stop paywall", reply_url)

    bad = signed_headers(body, secret="not-the-secret")
    stale = signed_headers(body, timestamp=int(time.time()) - 400)
    unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
    for headers, detail in [
        (bad, "the Slack signature does not match"),
        (stale, "the request timestamp is not within 5 minutes of now"),
        (unsigned, "send X-Slack-Request-Timestamp and X-Slack-Signature"),
    ]:
        response = await post(ingress, body, headers)
        assert response.status == 401
        assert response.content_type == "application/problem+json"
        assert (await response.json())["detail"] == detail
    tampered = signed_headers(body)
    response = await post(ingress, body.replace(b"U_ALICE", b"U_ADMIN"), tampered)
    assert response.status == 401

    status = slash_command("status paywall", reply_url)
    headers = signed_headers(status)
    assert (await post(ingress, status, headers)).status == 200
    replayed = await post(ingress, status, headers)
    assert replayed.status == 401
    assert "already received" in (await replayed.json())["detail"]

    refused = await command(ingress, "stop paywall", reply_url, user_id="U_MALLORY")
    assert refused.startswith("Sorry <@U_MALLORY>, you may not run `/exp stop` here")
    assert (await command(ingress, "stop paywall", reply_url, channel_id="C_RANDOM")).startswith(
        "Sorry <@U_ALICE>"
    )
    foreign = await post(ingress, slash_command("stop paywall", "https://evil.example/hook"))
    assert foreign.status == 400
    assert "host evil.example is not in" in (await foreign.json())["detail"]
    plain_http = await post(ingress, slash_command("stop paywall", "http://hooks.slack.com/x"))
    assert plain_http.status == 400

    assert await stored_event_count(settings) == 0  # nothing was queued
    await run_worker_burst(settings)
    assert slack.posts == []


async def test_a_dead_event_posts_its_failure_and_a_dead_letter_notice(
    setup: tuple[Ingress, Settings], sandbox: Any, slack: Any
) -> None:
    ingress, settings = setup
    await add_fault(
        sandbox.url,
        path_prefix="/qonversion/v4/experiments/exp_c/status",
        status=400,
        body='{"error": {"code": "invalid_status", "message": "not now"}}',
    )
    answer = await command(ingress, "pause paywall", slack.url("/commands/T1/3"))
    event_id = EVENT_ID.search(answer)
    assert event_id
    await run_worker_burst(settings)

    [reply] = slack.posted_to("/commands/T1/3")
    assert reply["text"].startswith(":x: `experiment.pause` on qonversion:exp_c failed: ")
    assert reply["text"].endswith(f"(event {event_id.group()}, status dead)")
    [notice] = slack.posted_to("/dead")
    assert notice["text"] == ":rotating_light: dead letter: " + reply["text"]


async def test_help_unknown_commands_and_targets(
    setup: tuple[Ingress, Settings], slack: Any, settings: Settings
) -> None:
    ingress, _ = setup
    reply_url = slack.url("/commands/T1/4")
    help_text = await command(ingress, "help", reply_url, user_id="U_NOBODY")
    assert "`/exp stop <target>`" in help_text and "`/exp status <target>`" in help_text
    assert (await command(ingress, "", reply_url)).startswith("*/exp* acts on an experiment")
    assert (await command(ingress, "explode paywall", reply_url)).startswith("Unknown command")
    assert (await command(ingress, "stop", reply_url)).startswith("Unknown command")
    unknown = await command(ingress, "stop nowhere", reply_url)
    assert unknown.startswith("unknown target 'nowhere': not an alias (known: paywall)")
    assert (await command(ingress, "status qonversion:exp_zz", reply_url)) == (
        "No events for qonversion:exp_zz in the bridge yet."
    )

    async with running_ingress(settings) as off:  # no signing secret: ChatOps off
        response = await post(off, slash_command("help", reply_url))
        assert response.status == 404


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("¹⁷⁰⁰⁰⁰⁰⁰⁰⁰", "v0=" + "0" * 64),  # superscript digits: isdigit() but not int()
        ("٣٤٥٦٧٨٩٠١٢", "v0=" + "0" * 64),  # Arabic-Indic digits
        (None, "v0=" + "é" * 64),  # a non-ASCII signature (compare_digest refuses it)
    ],
)
async def test_non_ascii_slack_headers_are_401_not_500(
    setup: tuple[Ingress, Settings], timestamp: str | None, signature: str
) -> None:
    ingress, settings = setup
    body = slash_command("start paywall", "https://hooks.slack.com/commands/1")
    ts = timestamp or str(int(time.time()))
    head = (
        "POST /v1/chatops/slack HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {signature}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    answer = await raw_request(ingress.base_url, head.encode("utf-8") + body)
    assert answer is not None
    assert answer.status == 401, answer.body
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert await stored_event_count(settings) == 0


@pytest.mark.parametrize(
    "response_url",
    [
        "https://evil.example\\@hooks.slack.com/commands/1",
        "https://user:pw@hooks.slack.com/commands/1",
        "https://evil.example@hooks.slack.com/commands/1",
        "https://hooks.slack.com:99999/x",
        "https://hooks.slack.com:8443/x",
        "https://hooks.slack.com.evil.example/x",
    ],
)
async def test_hostile_response_urls_are_400_and_nothing_is_queued(
    make_settings: Callable[..., Settings], tmp_path: Path, response_url: str
) -> None:
    path = tmp_path / "expbridge.yaml"
    path.write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    settings = make_settings(config=path, slack={"signing_secret": SIGNING_SECRET})
    async with running_ingress(settings, load_config(settings)) as ingress:
        response = await post(ingress, slash_command("start paywall", response_url))
        assert response.status == 400, await response.text()
        assert response.headers["Content-Type"].startswith("application/problem+json")
    assert await stored_event_count(settings) == 0
