"""Outbound Slack posts: chat command outcomes to their response_url, rule notifications and
dead-event notifications to incoming webhooks.

Only to allowed hosts (EXPBRIDGE_SLACK__ALLOWED_HOSTS; Slack's by default). Best effort: a short
timeout, the outcome logged, never an exception into the job — an event's fate does not depend
on a chat message. Posts made as an event ends run in the background (tracked, so a worker
shutting down finishes them) and never hold up the job.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import structlog

from expbridge.config.chatops import SlackSettings
from expbridge.events.record import EventRecord

log = structlog.get_logger("expbridge.notify")


def outcome_text(record: EventRecord) -> str:
    what = f"`{record.type}` on {record.target}"
    traced = f", trace {record.trace_id}" if record.trace_id else ""
    if record.status == "succeeded":
        return f":white_check_mark: {what} succeeded (event {record.id}{traced})"
    error = record.last_error.message if record.last_error is not None else "unknown error"
    return f":x: {what} failed: {error} (event {record.id}, status dead{traced})"


class Notifier:
    def __init__(self, session: aiohttp.ClientSession, slack: SlackSettings) -> None:
        self.session = session
        self.slack = slack
        self._background: set[asyncio.Task[bool]] = set()

    async def post(self, url: str, payload: dict[str, Any], what: str) -> bool:
        """POST `payload` as JSON; True when Slack answered 2xx. Never raises."""
        host = urlsplit(url).hostname or "?"  # never log the whole URL: it is a credential
        refusal = self.slack.refusal_for(url)
        if refusal is not None:
            log.warning("slack post refused", what=what, host=host, reason=refusal)
            return False
        timeout = aiohttp.ClientTimeout(total=self.slack.post_timeout_s)
        try:
            # No redirects: an allowed host must not be able to send us to any other host.
            async with self.session.post(
                url, json=payload, timeout=timeout, allow_redirects=False
            ) as response:
                await response.read()
                ok = response.status < 300
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning("slack post failed", what=what, host=host, error=type(error).__name__)
            return False
        log.info("slack post", what=what, host=host, upstream_status=response.status, ok=ok)
        return ok

    def post_later(self, url: str, payload: dict[str, Any], what: str) -> None:
        task = asyncio.create_task(self.post(url, payload, what))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def event_finished(self, record: EventRecord) -> None:
        """After the event's final status is stored: tell whoever is waiting."""
        if record.reply_to:
            payload = {
                "response_type": "ephemeral",
                "replace_original": False,
                "text": outcome_text(record),
            }
            self.post_later(record.reply_to, payload, "response_url")
        dead_letters = self.slack.dead_letter_webhook_url
        if record.status == "dead" and dead_letters:
            text = f":rotating_light: dead letter: {outcome_text(record)}"
            self.post_later(dead_letters, {"text": text}, "dead_letter_webhook")

    async def drain(self) -> None:
        """Let posts under way finish (each has its own short timeout)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
