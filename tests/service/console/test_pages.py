"""The console's pages over real HTTP against a real worker, Redis and sandbox: what each shows,
and that bad input is a message on the page rather than an error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from expbridge.config.file import load_file_config
from expbridge.config.settings import Settings
from expbridge.events import keys
from tests.conftest import SOURCE_TOKEN, Ingress, running_ingress
from tests.helpers import run_worker_burst, seed_experiment, start_event
from tests.service.console.session import browser_like, sign_in

EXAMPLE = Path(__file__).parents[3] / "config" / "example.yaml"


async def accept(ingress: Ingress, event: dict[str, Any]) -> str:
    response = await ingress.post_event(event)
    assert response.status == 202
    event_id: str = (await response.json())["id"]
    return event_id


async def test_events_event_and_dead_letter_replay(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_ok")
    ok = await accept(ingress, start_event("exp_ok"))
    dead = await accept(ingress, start_event("exp_later"))
    await run_worker_burst(settings)
    async with browser_like() as client:
        csrf = await sign_in(ingress, client)
        async with client.get(ingress.url("/ui/events")) as r:
            page = await r.text()
        assert ok in page and dead in page
        assert "succeeded <b>1</b>" in page and "dead <b>1</b>" in page
        async with client.get(ingress.url("/ui/events?status=dead")) as r:
            page = await r.text()
        assert dead in page and ok not in page
        async with client.get(ingress.url("/ui/events?target=qonversion:exp_ok")) as r:
            page = await r.text()
        assert ok in page and dead not in page
        async with client.get(ingress.url(f"/ui/events?id={ok}")) as r:
            assert r.url.path == f"/ui/events/{ok}"
            page = await r.text()
        assert "succeeded" in page and f"{ok}.1.qonversion.set_status" in page
        assert 'http-equiv="refresh"' not in page  # finished: no more refreshing

        async with client.get(ingress.url(f"/ui/events/{dead}")) as r:
            page = await r.text()
        assert "Replay" in page and "Last error" in page

        await seed_experiment(sandbox.url, "exp_later")
        async with client.post(
            ingress.url("/ui/dead-letters/replay"), data={"csrf": csrf, "ids": [dead, ok]}
        ) as r:
            assert r.status == 200
            page = await r.text()
        assert "Replayed 1, skipped 1" in page and "skipped (not dead)" in page
        await run_worker_burst(settings)
        assert (await ingress.get_record(dead))["status"] == "succeeded"


async def test_bad_input_is_a_message_not_an_error(ingress: Ingress) -> None:
    async with browser_like() as client:
        await sign_in(ingress, client)
        for query in ("since=yesterday", "status=lost", "cursor=nonsense", "id=evt_nowhere"):
            async with client.get(ingress.url(f"/ui/events?{query}")) as r:
                assert r.status == 400, query
                assert 'class="problems"' in await r.text()
        async with client.get(ingress.url("/ui/dead-letters?until=13:00&cursor=x")) as r:
            assert r.status == 400
        async with client.get(ingress.url("/ui/events/evt_nowhere")) as r:
            assert r.status == 404
        async with client.get(ingress.url("/ui/rules?outcome=bogus&rule=")) as r:
            assert r.status == 200


async def test_rules_and_providers(settings: Settings) -> None:
    async with (
        running_ingress(settings, load_file_config(EXAMPLE)) as ingress,
        browser_like() as client,
    ):
        await sign_in(ingress, client)
        async with client.get(ingress.url("/ui/rules")) as r:
            page = await r.text()
        assert "stop-when-significant" in page and "every 1h" in page
        assert 'pause-losers-preview</a> <span class="tag">dry run' in page
        assert "on goal.threshold_reached (goal_id refunds, metric rate, value ≥ 0.05)" in page
        async with client.get(ingress.url("/ui/providers")) as r:
            page = await r.text()
        assert "Qonversion" in page and "Convert" in page and "closed" in page


async def test_cancel_a_queued_event_from_its_page(ingress: Ingress, settings: Settings) -> None:
    queued = await accept(ingress, start_event("exp_waiting"))  # no worker runs: stays queued
    async with browser_like() as client:
        csrf = await sign_in(ingress, client)
        async with client.get(ingress.url(f"/ui/events/{queued}")) as r:
            page = await r.text()
        assert f'action="/ui/events/{queued}/cancel"' in page
        async with client.post(
            ingress.url(f"/ui/events/{queued}/cancel"), data={"csrf": csrf}
        ) as r:
            page = await r.text()
        assert "Cancelled: the event left its line." in page
        assert (await ingress.get_record(queued))["status"] == "cancelled"
        assert "/cancel" not in page  # finished: no cancel button any more
        async with client.post(
            ingress.url(f"/ui/events/{queued}/cancel"), data={"csrf": csrf}
        ) as r:
            assert "Cancelled" in await r.text()  # cancelling again answers the same
        async with client.post(ingress.url(f"/ui/events/{queued}/cancel"), data={}) as r:
            assert r.status == 403


async def test_the_trace_id_is_shown_when_the_event_has_one(ingress: Ingress) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = await ingress.post_event(
        start_event("exp_traced"), headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    )
    event_id = (await response.json())["id"]
    assert (await ingress.get_record(event_id))["trace_id"] == trace_id
    async with browser_like() as client:
        await sign_in(ingress, client)
        async with client.get(ingress.url(f"/ui/events/{event_id}")) as r:
            page = await r.text()
    assert "Trace id" in page and trace_id in page


async def test_providers_show_breakers_leases_and_callback_destinations(
    make_settings: Callable[..., Settings],
) -> None:
    subscription = {"url": "http://127.0.0.1:9/hooks", "secrets": ["whsec_" + "A" * 32]}
    settings = make_settings(
        sources={"growth": {"token": SOURCE_TOKEN, "callbacks": [subscription]}},
        callbacks={"allow_loopback": True},
    )
    redis = aioredis.Redis.from_url(settings.redis_url or "")
    seconds, _ = await redis.time()
    now_ms = seconds * 1000
    # What the workers' scripts leave while Qonversion fails: an open breaker, one lease.
    await redis.hset(keys.pace("qonversion", "breaker"), mapping={"open_until": now_ms + 30_000})
    await redis.zadd(keys.pace("qonversion", "slots"), {"lease-1": now_ms + 20_000})
    await redis.zadd(keys.pace("qonversion", "slots"), {"lease-dead-worker": now_ms - 1})
    await redis.set(keys.pace("convert", "penalty"), now_ms + 9_000)
    await redis.aclose()
    async with running_ingress(settings) as ingress, browser_like() as client:
        await sign_in(ingress, client)
        async with client.get(ingress.url("/ui/providers")) as r:
            page = await r.text()
    qonversion = page[page.index('id="provider-qonversion"') : page.index('id="provider-convert"')]
    assert "breaker-open" in qonversion and "In flight</dt><dd>1 of 8" in qonversion
    convert = page[page.index('id="provider-convert"') :]
    assert "breaker-closed" in convert and "slowed by a 429" in convert
    assert 'id="provider-callback-127.0.0.1"' in page
