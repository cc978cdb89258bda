"""Every bad request gets its status and a problem+json body, and nothing is enqueued."""

from __future__ import annotations

from typing import Any

import pytest

from expbridge.config.settings import Settings
from tests.conftest import Ingress
from tests.helpers import queued_jobs, start_event, stored_event_count


async def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"].startswith("https://")
    return body


async def assert_nothing_enqueued(settings: Settings) -> None:
    assert await queued_jobs(settings) == 0
    assert await stored_event_count(settings) == 0


async def test_malformed_json_is_400(ingress: Ingress, settings: Settings) -> None:
    response = await ingress.post_event(b'{"type": "experiment.start", ')
    body = await assert_problem(response, 400)
    assert "JSON" in body["detail"]
    response = await ingress.post_event(b"[1, 2]")
    await assert_problem(response, 400)
    response = await ingress.post_event(b"\xff\xfe not utf-8")
    await assert_problem(response, 400)
    await assert_nothing_enqueued(settings)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
)
async def test_missing_or_wrong_token_is_401(
    ingress: Ingress, settings: Settings, headers: dict[str, str]
) -> None:
    response = await ingress.post_event(start_event("exp_1"), token=None, headers=headers)
    body = await assert_problem(response, 401)
    assert "wrong-token" not in str(body)
    await assert_nothing_enqueued(settings)


async def test_body_over_the_limit_is_413(ingress: Ingress, settings: Settings) -> None:
    event = start_event("exp_1", padding="x" * (settings.max_body_bytes + 1))
    response = await ingress.post_event(event)
    await assert_problem(response, 413)

    # Without Content-Length too (chunked upload).
    async def chunks() -> Any:
        for _ in range(settings.max_body_bytes // 1024 + 2):
            yield b" " * 1024

    response = await ingress.post_event(chunks(), headers={"Content-Type": "application/json"})
    await assert_problem(response, 413)
    await assert_nothing_enqueued(settings)


async def test_wrong_content_type_is_415(ingress: Ingress, settings: Settings) -> None:
    response = await ingress.post_event(
        b"type=experiment.start", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    body = await assert_problem(response, 415)
    assert "application/json" in body["detail"]
    await assert_nothing_enqueued(settings)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"data": {}}, "type"),
        ({"type": "experiment.start"}, "data"),
        ({"type": "experiment.start", "data": {}, "specversion": "0.3"}, "specversion"),
        ({"type": "experiment.explode", "data": {}}, "type"),
        ({"type": "experiment.start", "data": {}}, "data.target"),
        (start_event("has spaces"), "data.target.experiment_id"),
        (start_event("x" * 257), "data.target.experiment_id"),
        (start_event("exp/../1"), "data.target.experiment_id"),
        (
            {"type": "experiment.start", "data": {"target": {"provider": "nope", "x": "1"}}},
            "data.target",
        ),
        (
            {"type": "experiment.start", "data": {"target": {"alias": "unknown"}}},
            "data.target.alias",
        ),
        (
            {
                "type": "experiment.update",
                "data": {
                    "target": {"provider": "qonversion", "experiment_id": "exp_1"},
                    "changes": {"alias_id": "not valid!"},
                },
            },
            "data.changes.alias_id",
        ),
        (
            {
                "type": "experiment.update",
                "data": {
                    "target": {"provider": "qonversion", "experiment_id": "exp_1"},
                    "changes": {},
                },
            },
            "data.changes",
        ),
    ],
)
async def test_schema_errors_are_422_naming_the_field(
    ingress: Ingress, settings: Settings, event: dict[str, Any], field: str
) -> None:
    response = await ingress.post_event(event)
    body = await assert_problem(response, 422)
    fields = [error["field"] for error in body["errors"]]
    assert any(f.startswith(field) for f in fields), fields
    assert all(error["message"] for error in body["errors"])
    await assert_nothing_enqueued(settings)


async def test_cloudevents_content_type_requires_a_valid_cloudevent(
    ingress: Ingress, settings: Settings
) -> None:
    headers = {"Content-Type": "application/cloudevents+json"}
    missing_id = {**start_event("exp_1"), "specversion": "1.0", "source": "growth"}
    response = await ingress.post_event(missing_id, headers=headers)
    await assert_problem(response, 422)
    bad_time = {**missing_id, "id": "e1", "time": "yesterday"}
    response = await ingress.post_event(bad_time, headers=headers)
    await assert_problem(response, 422)
    bad_extension = {**missing_id, "id": "e1", "Bad_Ext": "x"}
    response = await ingress.post_event(bad_extension, headers=headers)
    await assert_problem(response, 422)
    await assert_nothing_enqueued(settings)


async def test_unknown_routes_and_methods_are_problems(ingress: Ingress) -> None:
    async with ingress.session.get(ingress.url("/nope")) as response:
        await assert_problem(response, 404)
    async with ingress.session.delete(ingress.url("/v1/events")) as response:
        await assert_problem(response, 405)
