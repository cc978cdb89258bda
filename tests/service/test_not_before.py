"""`not_before` at the ingress: JSON mode and the CloudEvents extension `notbefore` schedule an
event; bad values are 422s naming the field; a time in the past means now."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.service import app_keys
from tests.conftest import ADMIN_TOKEN, Ingress, running_ingress
from tests.helpers import start_event
from tests.scrape import sample

CE_TYPE = "application/cloudevents+json"


def rfc3339(delta_s: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=delta_s)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def cloudevent(**extra: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"ce-{len(extra)}-{rfc3339(0)}",
        "source": "/growth",
        **start_event("exp_nb"),
        **extra,
    }


async def post(
    ingress: Ingress, body: dict[str, Any], content_type: str = "application/json"
) -> aiohttp.ClientResponse:
    headers = {"Content-Type": content_type}
    return await ingress.post_event(json.dumps(body).encode(), headers=headers)


async def test_a_future_not_before_is_scheduled_outside_the_line(
    ingress: Ingress, settings: Settings
) -> None:
    when = rfc3339(3600)
    response = await post(ingress, start_event("exp_nb", not_before=when))
    assert response.status == 202, await response.text()
    body = await response.json()
    assert body["status"] == "scheduled"
    record = await ingress.get_record(body["id"])
    assert record["status"] == "scheduled"
    assert record["not_before"].replace("+00:00", "Z") == when
    redis = ingress.app[app_keys.REDIS]
    assert await redis.llen(keys.order("qonversion:exp_nb")) == 0  # blocks nothing
    assert await redis.zscore(keys.SCHEDULED, body["id"]) is not None
    assert await redis.zcard(settings.queue_name) == 0

    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with ingress.session.get(
        ingress.url("/v1/events?status=scheduled"), headers=headers
    ) as listed:
        assert [r["id"] for r in (await listed.json())["data"]] == [body["id"]]
    async with ingress.session.get(ingress.url("/metrics")) as scraped:
        assert sample(await scraped.text(), "expbridge_scheduled_events") == 1


@pytest.mark.parametrize("mode", ["structured", "binary"])
async def test_cloudevents_say_it_with_the_notbefore_extension(ingress: Ingress, mode: str) -> None:
    when = rfc3339(600)
    if mode == "structured":
        response = await post(ingress, cloudevent(notbefore=when), CE_TYPE)
    else:
        headers = {
            "ce-specversion": "1.0",
            "ce-id": "bin-1",
            "ce-source": "/growth",
            "ce-type": "experiment.start",
            "ce-notbefore": when,
            "Content-Type": "application/json",
        }
        body = json.dumps(start_event("exp_nb")["data"]).encode()
        response = await ingress.post_event(body, headers=headers)
    assert response.status == 202, await response.text()
    assert (await response.json())["status"] == "scheduled"


async def test_a_time_in_the_past_means_now(ingress: Ingress) -> None:
    response = await post(ingress, start_event("exp_nb", not_before=rfc3339(-60)))
    body = await response.json()
    assert (response.status, body["status"]) == (202, "queued")
    assert (await ingress.get_record(body["id"]))["status"] == "queued"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("next monday", "not an RFC 3339"),
        ("2026-12-07T09:00:00", "time zone"),
        ("2026-02-30T09:00:00Z", "not a real date"),
        (1765098000, "RFC 3339 timestamp string"),
        ("2099-01-01T00:00:00Z", "more than 90 days ahead"),
    ],
)
async def test_bad_not_before_is_a_422_naming_the_field(
    ingress: Ingress, value: Any, words: str
) -> None:
    response = await post(ingress, start_event("exp_nb", not_before=value))
    assert response.status == 422
    problem = await response.json()
    assert problem["errors"][0]["field"] == "not_before"
    assert words in problem["detail"], problem


async def test_the_cloudevents_field_is_named_and_the_limit_is_a_setting(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_ingress(make_settings(max_schedule_ahead_s=60)) as ingress:
        response = await post(ingress, cloudevent(notbefore=rfc3339(120)), CE_TYPE)
        problem = await response.json()
        assert response.status == 422
        assert [error["field"] for error in problem["errors"]] == ["notbefore"]
        assert "EXPBRIDGE_MAX_SCHEDULE_AHEAD_S=60" in problem["detail"]
        # `not_before` is no CloudEvents extension name (no `_`): named as what is wrong.
        response = await post(ingress, cloudevent(not_before=rfc3339(30)), CE_TYPE)
        assert response.status == 422
        assert "not_before" in json.dumps((await response.json())["errors"])
        response = await post(ingress, start_event("exp_nb", not_before=rfc3339(30)))
        assert (await response.json())["status"] == "scheduled"
