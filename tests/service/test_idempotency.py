"""Ingress idempotency: Stripe semantics over the IETF Idempotency-Key header."""

from __future__ import annotations

import asyncio
import json

import redis.asyncio as aioredis

from expbridge.config.settings import Settings
from tests.conftest import OTHER_TOKEN, Ingress
from tests.helpers import queued_jobs, start_event, stored_event_count


async def test_same_key_and_body_replays_the_first_answer(
    ingress: Ingress, settings: Settings
) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = await ingress.post_event(start_event("exp_1"), headers=headers)
    second = await ingress.post_event(start_event("exp_1"), headers=headers)
    assert first.status == second.status == 202
    assert await first.json() == await second.json()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await stored_event_count(settings) == 1
    assert await queued_jobs(settings) == 1


async def test_producer_id_is_the_key_when_no_header(ingress: Ingress, settings: Settings) -> None:
    event = start_event("exp_1", id="evt-0001")
    ids = [(await (await ingress.post_event(event)).json())["id"] for _ in range(3)]
    assert len(set(ids)) == 1
    assert await stored_event_count(settings) == 1


async def test_same_key_with_another_body_is_422(ingress: Ingress, settings: Settings) -> None:
    headers = {"Idempotency-Key": "order-43"}
    assert (await ingress.post_event(start_event("exp_1"), headers=headers)).status == 202
    response = await ingress.post_event(start_event("exp_2"), headers=headers)
    assert response.status == 422
    assert "different body" in (await response.json(content_type=None))["detail"]
    assert await stored_event_count(settings) == 1


async def test_keys_are_scoped_per_source(ingress: Ingress, settings: Settings) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    a = await ingress.post_event(start_event("exp_1"), headers=headers)
    b = await ingress.post_event(start_event("exp_1"), token=OTHER_TOKEN, headers=headers)
    assert (await a.json())["id"] != (await b.json())["id"]
    assert await stored_event_count(settings) == 2


async def test_same_key_while_the_first_is_being_accepted_is_409(
    ingress: Ingress, settings: Settings
) -> None:
    admin = aioredis.Redis.from_url(settings.redis_url or "")
    headers = {"Idempotency-Key": "slow-key"}
    try:
        # Hold Redis writes so the first accept is still in flight when the second arrives.
        await admin.execute_command("CLIENT", "PAUSE", 400, "WRITE")
        first = asyncio.create_task(ingress.post_event(start_event("exp_1"), headers=headers))
        await asyncio.sleep(0.1)
        second = await ingress.post_event(start_event("exp_1"), headers=headers)
        assert second.status == 409
        body = json.loads(await second.text())
        assert body["status"] == 409 and "still being accepted" in body["detail"]
        assert (await first).status == 202
    finally:
        await admin.execute_command("CLIENT", "UNPAUSE")
        await admin.aclose()
    third = await ingress.post_event(start_event("exp_1"), headers=headers)
    assert third.headers["Idempotent-Replayed"] == "true"
    assert await stored_event_count(settings) == 1


async def test_accept_survives_redis_losing_its_script_cache(
    ingress: Ingress, settings: Settings
) -> None:
    admin = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        await admin.script_flush()
    finally:
        await admin.aclose()
    response = await ingress.post_event(start_event("exp_1"))
    assert response.status == 202
    assert await stored_event_count(settings) == 1
    assert await queued_jobs(settings) == 1


async def test_a_json_requests_ce_headers_are_not_part_of_the_request(
    ingress: Ingress, settings: Settings
) -> None:
    """Only CloudEvents binary mode reads `ce-` headers (its attributes: in its fingerprint,
    tests/service/test_trace_context.py); on a JSON event they are not the event, so a retry
    that differs only in them replays the first answer."""
    first = await ingress.post_event(
        start_event("exp_1"), headers={"Idempotency-Key": "order-44", "ce-subject": "a"}
    )
    again = await ingress.post_event(
        start_event("exp_1"), headers={"Idempotency-Key": "order-44", "ce-subject": "b"}
    )
    assert (first.status, again.status) == (202, 202)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await stored_event_count(settings) == 1
