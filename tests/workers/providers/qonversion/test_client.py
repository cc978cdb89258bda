"""The Qonversion v4 client's reads against the sandbox: cursor pages and the alias lookup."""

from __future__ import annotations

from typing import Any

import aiohttp

from expbridge.config.settings import Settings
from expbridge.workers.clients import build_clients
from tests.helpers import sandbox_requests, seed_sandbox


async def test_cursor_pages_and_lookup_by_alias(settings: Settings, sandbox: Any) -> None:
    experiments = [
        {"id": f"exp_{i:03}", "name": f"E{i}", "alias_id": f"alias_{i:03}"} for i in range(105)
    ]
    await seed_sandbox(sandbox.url, qonversion={"experiments": experiments})
    async with aiohttp.ClientSession() as session:
        client = build_clients(settings, session).qonversion
        first = (await client.list_experiments(limit=2)).value
        assert [e.id for e in first.data] == ["exp_000", "exp_001"] and first.has_more
        second = (await client.list_experiments(limit=2, starting_after="exp_001")).value
        assert [e.id for e in second.data] == ["exp_002", "exp_003"]

        found = await client.find_by_alias("alias_104")
        assert found is not None and found.id == "exp_104"
        assert await client.find_by_alias("alias_missing") is None
    calls = await sandbox_requests(sandbox.url, "/qonversion/v4/experiments")
    assert [c["query"].get("starting_after") for c in calls[2:4]] == [None, "exp_099"]
