"""A local HTTP endpoint standing in for Slack (response_url and incoming webhooks): it records
every post, so tests assert what the bridge told Slack; and the requests Slack sends the bridge
(slash commands, button clicks), signed as Slack signs them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "slack_signing_secret_0123456789"


class SlackStandIn:
    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._record)
        self.server = TestServer(app, host="127.0.0.1")

    async def _record(self, request: web.Request) -> web.Response:
        self.posts.append((request.path, await request.json()))
        return web.Response(text="ok")

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def posted_to(self, path: str) -> list[dict[str, Any]]:
        return [body for where, body in self.posts if where == path]


def slash_command(text: str, response_url: str, **fields: str) -> bytes:
    form = {
        "token": "legacy-unused",
        "team_id": "T1",
        "channel_id": "C_GROWTH",
        "user_id": "U_ALICE",
        "user_name": "alice",
        "command": "/exp",
        "text": text,
        "response_url": response_url,
        "trigger_id": f"trig.{time.time_ns()}",
        **fields,
    }
    return urlencode(form).encode()


def signed_headers(
    body: bytes, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """Headers as Slack sends them, signed with slack-sdk's own generator."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    # The same as Slack documents it: v0=HMAC-SHA256(secret, "v0:ts:body").
    expected = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    assert signature == "v0=" + expected.hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def block_actions(
    user_id: str, action_id: str, value: str, response_url: str, **fields: Any
) -> bytes:
    """A click on a message button, as Slack posts it: a form with one `payload` field."""
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "name": user_id.lower()},
        "team": {"id": "T1"},
        "channel": {"id": "C_GROWTH"},
        "response_url": response_url,
        "trigger_id": f"trig.{time.time_ns()}",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "value": value,
                "action_ts": str(time.time_ns()),
            }
        ],
        **fields,
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


async def wait_for_posts(
    stand_in: SlackStandIn, path: str, count: int = 1, timeout_s: float = 5
) -> list[dict[str, Any]]:
    """The bridge posts in the background: wait until `path` has `count` posts."""
    deadline = time.monotonic() + timeout_s
    while len(stand_in.posted_to(path)) < count:
        assert time.monotonic() < deadline, f"{path}: {stand_in.posts}"
        await asyncio.sleep(0.02)
    return stand_in.posted_to(path)
