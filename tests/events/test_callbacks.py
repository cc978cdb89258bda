"""Queuing outcome callbacks (events/callbacks.py) against a real Redis: which outcomes reach
which subscriptions, once however often they are queued."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from expbridge.config.settings import Settings
from expbridge.events.callbacks import CALLBACK_EVENT, Callbacks
from expbridge.events.rules.evaluation_log import RuleEvaluation
from expbridge.events.store.acceptor import Acceptor
from expbridge.events.store.records import EventStore
from tests.conftest import OTHER_TOKEN, SOURCE_TOKEN

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def subscribed(make_settings: Callable[..., Settings]) -> Settings:
    def sub(name: str, *outcomes: str) -> dict[str, Any]:
        return {
            "name": name,
            "url": f"https://{name}.example.com/",
            "secrets": [SECRET],
            "outcomes": list(outcomes),
        }

    return make_settings(
        sources={
            "growth": {
                "token": SOURCE_TOKEN,
                "callbacks": [sub("decisions", "rule.srm"), sub("ends", "succeeded")],
            },
            "other": {"token": OTHER_TOKEN, "callbacks": [sub("all", "rule.fired", "rule.srm")]},
        }
    )


async def test_a_rule_decision_goes_to_every_source_that_wants_it_once(
    make_settings: Callable[..., Settings],
) -> None:
    settings = subscribed(make_settings)
    redis = aioredis.Redis.from_url(settings.redis_url or "")
    acceptor = Acceptor(redis, settings)
    try:
        callbacks = Callbacks(acceptor, settings.sources)
        srm = RuleEvaluation(
            rule="pause-on-srm",
            target="qonversion:exp_1",
            trigger="schedule",
            outcome="fired",
            condition="srm",
        )
        first = await callbacks.rule_decided(srm, "pause-on-srm:qonversion:exp_1:srm:1")
        again = await callbacks.rule_decided(srm, "pause-on-srm:qonversion:exp_1:srm:1")
        fired = srm.model_copy(update={"rule": "stop", "condition": "significant"})
        winner = await callbacks.rule_decided(fired, "stop:qonversion:exp_1:significant:1")
        store = EventStore(redis)
        records = [await store.get(event_id) for event_id in first + winner]
    finally:
        await acceptor.close()
        await redis.aclose()
    assert len(first) == 2 and again == first  # a firing queued twice is one callback each
    assert len(winner) == 1  # only "other" wants rule.fired
    targets = [r.target for r in records if r is not None]
    assert sorted(targets[:2]) == ["callback:growth/decisions", "callback:other/all"]
    assert targets[2] == "callback:other/all"
    for record in records:
        assert record is not None and record.type == CALLBACK_EVENT
    kinds = [r.data["cloudevent"]["type"] for r in records if r is not None]
    assert kinds == ["expbridge.rule.srm", "expbridge.rule.srm", "expbridge.rule.fired"]
    assert (
        records[0] is not None and records[0].data["cloudevent"]["data"]["rule"] == "pause-on-srm"
    )
