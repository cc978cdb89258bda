"""Slack slash commands: request verification (signing secret v0, 5-minute window, no replays)
and reading the command. https://api.slack.com/authentication/verifying-requests-from-slack"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

from aiohttp import web
from redis.asyncio import Redis
from slack_sdk.signature import SignatureVerifier

from expbridge.events import keys
from expbridge.service import app_keys
from expbridge.service.auth import unauthorized
from expbridge.service.problems import Problem
from expbridge.service.validation import read_body

WINDOW_S = 300
# Seen signatures are remembered longer than the window, so a replay is refused until the
# timestamp alone refuses it.
SEEN_TTL_S = 2 * WINDOW_S + 60
USAGE = (
    "`/exp start|pause|stop <target> [at <RFC 3339> | in <duration>]`, `/exp status <target>`, "
    "`/exp scheduled [<target>]`, `/exp cancel <event id>` or `/exp help`"
)


class SlackVerifier:
    def __init__(self, signing_secret: str, redis: Redis) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.redis = redis

    async def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raises a 401 Problem unless Slack signed this body, recently, and only once."""
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not timestamp or not signature:
            raise unauthorized("send X-Slack-Request-Timestamp and X-Slack-Signature")
        # isdigit() alone takes "¹⁷⁰⁰", which int() refuses; compare_digest refuses non-ASCII.
        if not (timestamp.isascii() and timestamp.isdigit()) or (
            abs(time.time() - int(timestamp)) > WINDOW_S
        ):
            raise unauthorized("the request timestamp is not within 5 minutes of now")
        if not signature.isascii():
            raise unauthorized("the Slack signature does not match")
        try:
            valid = self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
        except (UnicodeDecodeError, TypeError):
            valid = False
        if not valid:
            raise unauthorized("the Slack signature does not match")
        digest = hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()
        if not await self.redis.set(keys.slack_seen(digest), "1", nx=True, ex=SEEN_TTL_S):
            raise unauthorized("this signed request was already received (a replay)")


@dataclass(frozen=True)
class SlashCommand:
    command: str  # as typed, e.g. /exp
    text: str
    user_id: str
    user_name: str
    channel_id: str
    response_url: str
    trigger_id: str

    @property
    def verb(self) -> str:
        parts = self.text.split()
        return parts[0].lower() if parts else "help"

    @property
    def argument(self) -> str:
        parts = self.text.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""


def parse_command(body: bytes) -> SlashCommand:
    """The form Slack posts (application/x-www-form-urlencoded); missing fields are empty."""
    form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)

    def field(name: str) -> str:
        return form.get(name, [""])[0].strip()

    return SlashCommand(
        command=field("command") or "/exp",
        text=field("text"),
        user_id=field("user_id"),
        user_name=field("user_name"),
        channel_id=field("channel_id"),
        response_url=field("response_url"),
        trigger_id=field("trigger_id"),
    )


def help_text(command: str) -> str:
    return (
        f"*{command}* acts on an experiment (an alias, `qonversion:EXP_ID` or "
        "`convert:PROJECT_ID/EXPERIENCE_ID`):\n"
        f"• `{command} start <target>`: start it\n"
        f"• `{command} pause <target>`: pause it\n"
        f"• `{command} stop <target>`: finish it\n"
        f"• `{command} stop <target> at 2026-12-07T09:00:00Z` or `… in 3d`: later (also start, "
        "pause; `in` takes s, m, h, d, w)\n"
        f"• `{command} status <target>`: its latest events in the bridge\n"
        f"• `{command} scheduled [<target>]`: what is scheduled, soonest first\n"
        f"• `{command} cancel <event id>`: cancel a scheduled, queued or retrying event\n"
        f"• `{command} help`: this list\n"
        "The outcome of start, pause and stop is posted here when it is known."
    )


async def verified_body(request: web.Request) -> bytes:
    """The body of a request Slack signed (both Slack routes): 404 while ChatOps is off, 401
    unless the signature holds."""
    verifier = request.app[app_keys.SLACK_VERIFIER]
    if verifier is None:
        raise Problem(404, "Not found", "Slack ChatOps is off: EXPBRIDGE_SLACK__SIGNING_SECRET")
    body = await read_body(request)
    await verifier.verify(request.headers, body)
    return body
