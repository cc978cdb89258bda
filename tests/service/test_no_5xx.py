"""No input, however malformed, produces a 5xx: every field of valid events replaced by hostile
values, and raw bodies that are not JSON at all. Each answer is 202 or a problem+json 4xx."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from tests.conftest import Ingress

HOSTILE: list[Any] = [
    None,
    True,
    0,
    -1,
    10**40,
    1.5e308,
    "",
    " ",
    "\x00",
    "é" * 300,
    "a" * 5000,
    [],
    [1, 2],
    {},
    {"$ne": 1},
    "../../etc/passwd",
    "<script>",
    "exp/1",
    "null",
]

VALID: list[dict[str, Any]] = [
    {
        "type": "experiment.start",
        "data": {"target": {"provider": "qonversion", "experiment_id": "exp_1"}},
    },
    {
        "type": "experiment.update",
        "data": {
            "target": {"provider": "qonversion", "experiment_id": "exp_1"},
            "changes": {"name": "n", "segment_percent": 50},
        },
    },
    {
        "type": "goal.create",
        "data": {
            "target": {"provider": "convert", "project_id": "1001"},
            "goal": {"goal_name": "Buy", "goal_type": "visits_page"},
        },
    },
    {
        "type": "report.fetch",
        "data": {
            "target": {"provider": "convert", "project_id": "1001", "experience_id": "2002"},
            "goal_id": "3003",
        },
    },
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from paths(inner, (*prefix, key))


def replaced(event: dict[str, Any], path: tuple[Any, ...], new: Any) -> dict[str, Any]:
    mutated = copy.deepcopy(event)
    node = mutated
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return mutated


async def test_hostile_field_values_never_produce_a_5xx(ingress: Ingress) -> None:
    seen: set[int] = set()
    for event in VALID:
        for path in paths(event):
            for value in HOSTILE:
                response = await ingress.post_event(replaced(event, path, value))
                seen.add(response.status)
                assert response.status < 500, (path, value, await response.text())
                if response.status >= 400:
                    assert response.headers["Content-Type"].startswith("application/problem+json")
                response.release()
    assert 422 in seen


async def test_raw_garbage_never_produces_a_5xx(ingress: Ingress) -> None:
    bodies = [
        b"",
        b"{",
        b"[]",
        b"null",
        b'"text"',
        b"\xff\xfe\x00",
        b'{"type": "\\ud800"}',
        b"[" * 5000 + b"]" * 5000,
        json.dumps({"type": "x", "data": []}).encode(),
        b'{"type": "experiment.start", "data": {"target": {"alias": null}}}',
        b'{"type": "experiment.start", "type": "experiment.stop", "data": {}}',
    ]
    for body in bodies:
        response = await ingress.post_event(body)
        assert 400 <= response.status < 500, (body[:40], await response.text())
        assert response.headers["Content-Type"].startswith("application/problem+json")
        response.release()
