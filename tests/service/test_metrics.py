"""GET /metrics on the ingress: events received by outcome, and queue depths read from Redis."""

from __future__ import annotations

from collections.abc import Callable

import redis.asyncio as aioredis

from expbridge.cli.redis_server import free_port
from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.service.metrics import IngressMetrics
from tests.conftest import Ingress, running_ingress
from tests.helpers import start_event
from tests.scrape import sample, scrape

RECEIVED = "expbridge_events_received_total"


async def test_events_received_by_type_source_and_outcome(ingress: Ingress) -> None:
    headers = {"Idempotency-Key": "metrics-1"}
    assert (await ingress.post_event(start_event("exp_1"), headers=headers)).status == 202
    assert (await ingress.post_event(start_event("exp_1"), headers=headers)).status == 202
    assert (await ingress.post_event(start_event("exp_2"), token="wrong")).status == 401
    unknown = {"type": "no.such.type", "data": {"target": {"alias": "x"}}}
    assert (await ingress.post_event(unknown)).status == 422

    text = await scrape(ingress.url("/metrics"))
    labels = {"type": "experiment.start", "source": "growth"}
    assert sample(text, RECEIVED, **labels, outcome="accepted", status_class="2xx") == 1
    assert sample(text, RECEIVED, **labels, outcome="replayed", status_class="2xx") == 1
    # Unauthenticated and unknown types never become label values of their own.
    assert sample(text, RECEIVED, type="unknown", source="unknown", outcome="rejected") == 1
    assert sample(text, RECEIVED, type="unknown", source="growth", status_class="4xx") == 1
    assert "no.such.type" not in text


async def test_queue_depths_are_read_from_redis_at_scrape_time(
    ingress: Ingress, settings: Settings
) -> None:
    for experiment in ("exp_1", "exp_2", "exp_2"):
        assert (await ingress.post_event(start_event(experiment))).status == 202
    redis = aioredis.Redis.from_url(settings.redis_url or "")
    try:
        await redis.zadd(keys.DEAD_INDEX, {"evt_dead_1": 1, "evt_dead_2": 2})
        text = await scrape(ingress.url("/metrics"))
    finally:
        await redis.aclose()
    # One job per target line: exp_2's second event waits behind its first.
    assert sample(text, "expbridge_queue_depth") == 2
    assert sample(text, "expbridge_dead_letter_queue_depth") == 2
    assert sample(text, "expbridge_redis_up") == 1


async def test_a_metrics_token_closes_the_endpoint_to_others(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_ingress(make_settings(metrics_token="metrics_0123456789")) as ingress:
        url, session = ingress.url("/metrics"), ingress.session
        async with session.get(url) as response:
            assert response.status == 401
            assert response.content_type == "application/problem+json"
        wrong = {"Authorization": "Bearer metrics_wrong"}
        async with session.get(url, headers=wrong) as response:
            assert response.status == 401
        right = {"Authorization": "Bearer metrics_0123456789"}
        async with session.get(url, headers=right) as response:
            assert response.status == 200
            assert "expbridge_queue_depth" in await response.text()


async def test_redis_down_at_scrape_time_reads_as_redis_up_0() -> None:
    metrics = IngressMetrics(event_types=[])
    unreachable = aioredis.Redis(port=free_port(), socket_connect_timeout=0.2)
    await metrics.read_queues(unreachable, "any-queue")
    await unreachable.aclose()
    assert metrics.registry.get_sample_value("expbridge_redis_up") == 0


async def test_the_accept_route_answers_and_counts_alike_through_the_router(
    ingress: Ingress,
) -> None:
    """The server hands POST /v1/events to its route straight; a request expecting a
    100-continue goes through aiohttp's router instead, to the same route: the same answers,
    counted once each."""
    expecting = {"Expect": "100-continue"}
    accepted = await ingress.post_event(start_event("exp_1"), headers=expecting)
    assert accepted.status == 202 and (await accepted.json())["status"] == "queued"
    refused = await ingress.post_event(start_event("exp_1"), token="wrong", headers=expecting)
    assert refused.status == 401
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert (await ingress.post_event(start_event("exp_2"))).status == 202

    text = await scrape(ingress.url("/metrics"))
    labels = {"type": "experiment.start", "source": "growth"}
    assert sample(text, RECEIVED, **labels, outcome="accepted", status_class="2xx") == 2
    assert sample(text, RECEIVED, type="unknown", source="unknown", outcome="rejected") == 1
