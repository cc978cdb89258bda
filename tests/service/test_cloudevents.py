"""CloudEvents made by the CNCF SDK (the reference) are accepted in structured and binary mode."""

from __future__ import annotations

from typing import Any

from cloudevents.v1.conversion import to_binary, to_structured
from cloudevents.v1.http import CloudEvent

from expbridge.config.settings import Settings
from tests.conftest import Ingress
from tests.helpers import run_worker_burst, seed_experiment, stored_event_count

DATA = {"target": {"provider": "qonversion", "experiment_id": "exp_ce"}}


def cloud_event(**attributes: Any) -> CloudEvent:
    base = {"type": "experiment.start", "source": "growth-service"}
    return CloudEvent({**base, **attributes}, DATA)


async def test_structured_mode_event_from_the_sdk_is_accepted_and_carried_out(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    await seed_experiment(sandbox.url, "exp_ce")
    headers, body = to_structured(cloud_event())
    response = await ingress.post_event(body, headers=headers)
    assert response.status == 202, await response.text()
    event_id = (await response.json())["id"]
    await run_worker_burst(settings)
    record = await ingress.get_record(event_id)
    assert record["status"] == "succeeded"
    assert record["producer_id"]  # the CloudEvent's id, kept as the producer's id


async def test_binary_mode_event_from_the_sdk_is_accepted(
    ingress: Ingress, settings: Settings
) -> None:
    headers, body = to_binary(cloud_event(datacontenttype="application/json"))
    response = await ingress.post_event(body, headers=headers)
    assert response.status == 202, await response.text()
    # The CloudEvent id is the idempotency key: the same event again is a replay.
    again = await ingress.post_event(body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await stored_event_count(settings) == 1


async def test_binary_mode_without_required_attributes_is_422(
    ingress: Ingress, settings: Settings
) -> None:
    headers, body = to_binary(cloud_event(datacontenttype="application/json"))
    del headers["ce-id"]
    response = await ingress.post_event(body, headers=headers)
    assert response.status == 422
    fields = [e["field"] for e in (await response.json(content_type=None))["errors"]]
    assert "id" in fields
    assert await stored_event_count(settings) == 0
