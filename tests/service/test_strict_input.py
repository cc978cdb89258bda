"""Hostile and careless input is refused at the ingress with a problem naming it, so nothing
accepted can be unreadable later (findings 1-3 and 11 of issue 10)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from expbridge.config.settings import Settings
from tests.conftest import ADMIN_TOKEN, Ingress
from tests.helpers import start_event, stored_event_count
from tests.service.test_post_event_errors import assert_problem


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"x": 1}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


def audience_create(firing_rule: Any, target: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "audience.create",
        "data": {
            "target": target or {"provider": "convert", "project_id": "777"},
            "audience": {"audience_name": "deep", "firing_rule": firing_rule},
        },
    }


@pytest.mark.parametrize("levels", [198, 254, 900])
async def test_deep_nesting_is_a_400_not_a_record_nobody_can_read(
    ingress: Ingress, settings: Settings, levels: int
) -> None:
    response = await ingress.post_event(json.dumps(audience_create(nested(levels))).encode())
    body = await assert_problem(response, 400)
    assert "deeper than 32 levels" in body["detail"]
    assert await stored_event_count(settings) == 0


async def test_reasonable_nesting_is_still_accepted(ingress: Ingress) -> None:
    response = await ingress.post_event(audience_create(nested(20)))
    assert response.status == 202, await response.text()


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (b'"goal_value": NaN', "NaN is not a JSON value"),
        (b'"goal_value": Infinity', "Infinity is not a JSON value"),
        (b'"goal_value": -Infinity', "-Infinity is not a JSON value"),
        (b'"goal_value": 1e400', "too large"),
        (b'"goal_value": ' + b"1" * 401, "too large"),
        (b'"goal_value": 9223372036854775808', "outside the signed 64-bit range"),
        (b'"name": "a\\\\b", "name": "c"', "'name' appears twice"),
        (b'"goal_value": 1, "goal_value": 2', "'goal_value' appears twice"),
    ],
)
async def test_what_is_not_strict_json_is_a_400_naming_it(
    ingress: Ingress, settings: Settings, raw: bytes, named: str
) -> None:
    body = (
        b'{"type": "experiment.update", "data": {"target": {"provider": "qonversion", '
        b'"experiment_id": "exp_1"}, "changes": {' + raw + b"}}}"
    )
    problem = await assert_problem(await ingress.post_event(body), 400)
    assert named in problem["detail"]
    assert await stored_event_count(settings) == 0


async def test_a_duplicate_type_cannot_turn_a_pause_into_a_delete(
    ingress: Ingress, settings: Settings
) -> None:
    body = (
        b'{"type": "experiment.pause", "type": "experiment.delete", "data": {"target": '
        b'{"provider": "qonversion", "experiment_id": "exp_1"}}}'
    )
    problem = await assert_problem(await ingress.post_event(body), 400)
    assert "'type' appears twice" in problem["detail"]
    assert await stored_event_count(settings) == 0


async def test_a_timestamp_beyond_year_9999_is_a_422(ingress: Ingress) -> None:
    event = {
        "type": "report.fetch",
        "data": {
            "target": {"provider": "convert", "project_id": "1", "experience_id": "2"},
            "start_timestamp": 10**15,
        },
    }
    problem = await assert_problem(await ingress.post_event(event), 422)
    assert problem["errors"][0]["field"] == "data.start_timestamp"


@pytest.mark.parametrize(
    "event",
    [
        start_event(".."),
        start_event("."),
        {
            "type": "experiment.user.detach",
            "data": {
                "target": {"provider": "qonversion", "experiment_id": "exp_trav"},
                "user_id": "..",
            },
        },
        {
            "type": "experiment.user.attach",
            "data": {
                "target": {"provider": "qonversion", "experiment_id": "exp_trav"},
                "user_id": ".",
                "group_id": "g",
            },
        },
    ],
)
async def test_dot_segment_ids_are_422(
    ingress: Ingress, settings: Settings, event: dict[str, Any]
) -> None:
    problem = await assert_problem(await ingress.post_event(event), 422)
    assert "'.' or '..'" in json.dumps(problem["errors"])
    assert await stored_event_count(settings) == 0


async def test_ids_with_dots_inside_are_still_fine(ingress: Ingress) -> None:
    response = await ingress.post_event(start_event("exp..v2.final"))
    assert response.status == 202, await response.text()


# Finding 11: the OpenAPI document and validation agree.


async def openapi(ingress: Ingress) -> dict[str, Any]:
    async with ingress.session.get(ingress.url("/openapi.json")) as response:
        document: dict[str, Any] = await response.json()
        return document


def event_body_validator(document: dict[str, Any]) -> jsonschema.Validator:
    # The event schema with the document's components beside it, so its $refs resolve.
    schema = {**document["components"]["schemas"]["Event"], "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize(
    "event",
    [
        audience_create({"x": 1}, target={"provider": "convert"}),
        {
            "type": "variation.remove",
            "data": {"target": {"provider": "convert"}, "variation_id": "5"},
        },
        {
            "type": "project.create",
            "data": {
                "target": {"provider": "convert", "project_id": "1"},
                "project": {"name": "p"},
            },
        },
    ],
)
async def test_targets_the_schema_refuses_are_the_ones_validation_refuses(
    ingress: Ingress, event: dict[str, Any]
) -> None:
    validator = event_body_validator(await openapi(ingress))
    assert not validator.is_valid(event)
    await assert_problem(await ingress.post_event(event), 422)


async def test_targets_the_schema_takes_are_accepted(ingress: Ingress) -> None:
    validator = event_body_validator(await openapi(ingress))
    good = audience_create({"x": 1})
    assert validator.is_valid(good), list(validator.iter_errors(good))
    response = await ingress.post_event(good)
    assert response.status == 202, await response.text()


async def test_a_256_character_producer_id_is_accepted(ingress: Ingress) -> None:
    response = await ingress.post_event(start_event("exp_1", id="p" * 256))
    assert response.status == 202, await response.text()


async def test_booleans_are_booleans(ingress: Ingress) -> None:
    event = {
        "type": "experiment.update",
        "data": {
            "target": {"provider": "qonversion", "experiment_id": "exp_1"},
            "changes": {"is_context_specific": 0},
        },
    }
    problem = await assert_problem(await ingress.post_event(event), 422)
    assert problem["errors"][0]["field"] == "data.changes.is_context_specific"


async def test_times_are_rfc3339_not_unix_numbers(ingress: Ingress) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    url = ingress.url("/v1/dead-letters?until=0.5")
    async with ingress.session.get(url, headers=admin) as response:
        await assert_problem(response, 422)
    url = ingress.url("/v1/dead-letters/replay")
    async with ingress.session.post(url, json={"until": 0}, headers=admin) as response:
        await assert_problem(response, 422)
    url = ingress.url("/v1/dead-letters?until=2026-11-22T10:00:00Z")
    async with ingress.session.get(url, headers=admin) as response:
        assert response.status == 200
