"""GET /openapi.json and /docs: a valid OpenAPI 3.1 document generated from the routes, the
models and the event catalog, and real answers that match it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from expbridge.events.catalog import CATALOG
from expbridge.service.answers import AcceptedEvent
from expbridge.service.openapi.document import event_schema_name
from expbridge.service.openapi.paths import ROUTE_DOCS
from expbridge.service.routes.accept import accepted_answer
from tests.conftest import ADMIN_TOKEN, Ingress
from tests.helpers import start_event


@pytest.fixture
async def document(ingress: Ingress) -> dict[str, Any]:
    async with ingress.session.get(ingress.url("/openapi.json")) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


def check(document: dict[str, Any], schema_name: str, instance: Any) -> None:
    """Validate `instance` against a component schema, refs resolved within the document."""
    schema = {**document, "$ref": f"#/components/schemas/{schema_name}"}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(instance)]
    assert not errors, (schema_name, errors, instance)


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_registered_route_is_in_the_document(
    ingress: Ingress, document: dict[str, Any]
) -> None:
    registered = {
        (route.method.lower(), route.resource.canonical)
        for route in ingress.app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    # The operator console's HTML pages (/ui) are for people, not part of the JSON API.
    console = {(m, p) for m, p in registered if p.startswith("/ui")}
    assert ("get", "/ui/events") in console
    registered -= console
    listed = {(m, p) for p, item in document["paths"].items() for m in item}
    assert registered == listed
    undocumented = [
        (m, p) for m, p in listed if document["paths"][p][m]["summary"] == "(undocumented)"
    ]
    assert not undocumented, "add these to service/api_routes.py ROUTE_DOCS"
    stale = {(d.method.lower(), d.path) for d in ROUTE_DOCS} - registered
    assert not stale, "ROUTE_DOCS describes routes the app does not have"


def test_every_event_type_has_its_data_schema_per_provider(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    event_refs = {item["$ref"] for item in schemas["Event"]["oneOf"]}
    assert len(event_refs) == len(CATALOG)
    for event_type, spec in CATALOG.items():
        schema = schemas[event_schema_name(event_type)]
        assert f"#/components/schemas/{event_schema_name(event_type)}" in event_refs
        assert schema["properties"]["type"] == {"const": event_type}
        variants = schema["properties"]["data"].get("oneOf", [])
        assert len(variants) == len(spec.data_models), event_type
        for variant in variants:
            assert variant["$ref"].rsplit("/", 1)[1] in schemas
    problem = schemas["ProblemDetails"]
    assert {"type", "title", "status", "detail", "errors"} <= problem["properties"].keys()


async def test_real_answers_match_the_document(ingress: Ingress, document: dict[str, Any]) -> None:
    request_schema = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    plain = request_schema["application/json"]["schema"]
    for body in (start_event("exp_1"), request_schema["application/json"]["example"]):
        errors = list(Draft202012Validator({**document, **plain}).iter_errors(body))
        assert not errors, [e.message for e in errors]

    accepted = await ingress.post_event(start_event("exp_1"))
    assert accepted.status == 202
    accepted_body = await accepted.json()
    check(document, "AcceptedEvent", accepted_body)
    check(document, "EventStatusRecord", await ingress.get_record(accepted_body["id"]))

    invalid = start_event("bad id!")
    rejected = await ingress.post_event(invalid)
    assert rejected.status == 422
    problem = await rejected.json(content_type="application/problem+json")
    assert problem["errors"]
    check(document, "ProblemDetails", problem)

    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with ingress.session.get(ingress.url("/v1/events"), headers=admin) as response:
        check(document, "EventPage", await response.json())
    for path, schema in (("/healthz", "Health"), ("/readyz", "Readiness")):
        async with ingress.session.get(ingress.url(path)) as response:
            check(document, schema, await response.json())


async def test_docs_page_renders_the_document_without_the_internet(ingress: Ingress) -> None:
    async with ingress.session.get(ingress.url("/docs")) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    assert 'fetch("openapi.json")' in page
    assert not re.search(r"https?://|//cdn|<script[^>]+src=|<link[^>]+href=", page)


@pytest.mark.parametrize("status", ["queued", "scheduled"])
def test_the_accept_routes_202_body_is_the_accepted_event_model_byte_for_byte(status: str) -> None:
    event_id, event_type = "evt_0195f3c2a1b4c7d8e9f0a1b2c3d4e5f6", "experiment.start"
    links = {"self": f"/v1/events/{event_id}"}
    model = AcceptedEvent.model_validate(
        {"id": event_id, "status": status, "type": event_type, "links": links}
    )
    assert accepted_answer(event_id, event_type, status) == model.model_dump_json().encode()
