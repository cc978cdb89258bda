"""Outbound posts to Slack (a response_url, an incoming webhook), for the ingress (approval
messages) and the workers (outcomes, notifications).

Only to allowed hosts (EXPBRIDGE_SLACK__ALLOWED_HOSTS; Slack's by default), never following a
redirect. Best effort: a short timeout, the outcome logged (the host only: a response_url is a
credential), never an exception. Background posts are tracked, so a process shutting down
finishes them.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import structlog

from expbridge.config.chatops import SlackSettings

log = structlog.get_logger("expbridge.notify")


class SlackPoster:
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

    async def drain(self) -> None:
        """Let posts under way finish (each has its own short timeout)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
