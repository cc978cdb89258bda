"""The OpenAPI 3.1 document, generated at start-up from the routes the app has registered, their
descriptions (service/api_routes.py), the pydantic models, and the event catalog.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeGuard

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from expbridge.events.catalog import CATALOG
from expbridge.events.envelope import CloudEventEnvelope, EventEnvelope
from expbridge.events.record import INTERNAL_FIELDS, EventRecord
from expbridge.service import answers as api_models
from expbridge.service.openapi.route_doc import (
    EVENT_BODY,
    STATUS_RECORD,
    Reply,
    RouteDoc,
)

REF = "#/components/schemas/{model}"
PATH_PARAM = re.compile(r"{([^}/:]+)(?::[^}]*)?}")
SECURITY_SCHEMES = {
    "sourceToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "a source's token (EXPBRIDGE_SOURCES or the config file)",
    },
    "adminToken": {"type": "http", "scheme": "bearer", "description": "EXPBRIDGE_ADMIN_TOKEN"},
    "metricsToken": {"type": "http", "scheme": "bearer", "description": "EXPBRIDGE_METRICS_TOKEN"},
    "slackSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Slack-Signature",
        "description": "Slack's v0 request signature made with EXPBRIDGE_SLACK__SIGNING_SECRET",
    },
    "webhookSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "webhook-signature",
        "description": "Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature "
        "made with the source's whsec_ secret",
    },
}
EXAMPLE_EVENT = {
    "type": "experiment.start",
    "id": "evt-2026-11-22-0001",
    "data": {"target": {"provider": "qonversion", "experiment_id": "exp_8f3a"}},
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def event_schema_name(event_type: str) -> str:
    """`experiment.user.attach` → `ExperimentUserAttachEvent` (a valid component name)."""
    return "".join(part.capitalize() for part in re.split(r"[._-]", event_type)) + "Event"


def package_version() -> str:
    try:
        return version("expbridge")
    except PackageNotFoundError:
        return "0.0.0"


class OpenApiBuilder:
    def __init__(self, docs: Iterable[RouteDoc]) -> None:
        self.docs = {(d.method, d.path): d for d in docs}
        models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
            (EventEnvelope, "validation"),
            (CloudEventEnvelope, "validation"),
            (EventRecord, "serialization"),
            (api_models.ProblemDetails, "serialization"),
        ]
        for spec in CATALOG.values():
            models += [(m, "validation") for m in spec.data_models.values()]
        for doc in self.docs.values():
            models += [(m, "validation") for m in (doc.query, doc.body) if _is_model(m)]
            replies = [reply.schema for reply in doc.replies.values()]
            models += [(m, "serialization") for m in replies if _is_model(m)]
        # All at once, so two models with one name get distinct component names.
        key_map, definitions = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
        self.names = {model: item["$ref"].rsplit("/", 1)[1] for (model, _), item in key_map.items()}
        self.schemas: dict[str, Any] = definitions.get("$defs", {})
        self._add_status_record()
        self._add_events()

    def _add_status_record(self) -> None:
        record = copy.deepcopy(self.schemas.pop(self.names[EventRecord]))
        for name in INTERNAL_FIELDS:
            record["properties"].pop(name, None)
        record["required"] = [r for r in record.get("required", []) if r not in INTERNAL_FIELDS]
        record["title"] = "Event status record"
        record["additionalProperties"] = False  # public() gives exactly these fields
        self.schemas[STATUS_RECORD] = record

    def _add_events(self) -> None:
        """One schema per event type: its `type`, and its `data` per provider (a oneOf)."""
        mapping = {}
        for event_type, spec in sorted(CATALOG.items()):
            per_provider = [ref(self.names[model]) for _, model in sorted(spec.data_models.items())]
            name = event_schema_name(event_type)
            self.schemas[name] = {
                "title": event_type,
                "description": f"{spec.summary} (providers: {', '.join(spec.providers) or '-'})",
                "type": "object",
                "properties": {
                    "type": {"const": event_type},
                    "data": {"oneOf": per_provider} if per_provider else {"type": "object"},
                },
                "required": ["type", "data"],
            }
            mapping[event_type] = REF.format(model=name)
        self.schemas[EVENT_BODY] = {
            "oneOf": [{"$ref": target} for target in mapping.values()],
            "discriminator": {"propertyName": "type", "mapping": mapping},
        }

    def schema_of(self, schema: type[BaseModel] | str | Mapping[str, Any]) -> dict[str, Any]:
        if isinstance(schema, str):
            return ref(schema)
        if isinstance(schema, Mapping):
            return dict(schema)
        return ref(self.names[schema])

    def document(self, routes: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
        """`routes`: (method, path, handler name) of every route the app registered."""
        paths: dict[str, dict[str, Any]] = {}
        order = {key: index for index, key in enumerate(self.docs)}  # the table's order
        for method, path, handler_name in sorted(
            routes, key=lambda r: (order.get((r[0], r[1]), len(order)), r[1], r[0])
        ):
            if method in ("HEAD", "*"):
                continue
            doc = self.docs.get((method, path))
            operation = self._operation(doc, path, handler_name)
            paths.setdefault(path, {})[method.lower()] = operation
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "expbridge",
                "version": package_version(),
                "summary": "Async event bridge for experiment (A/B test) lifecycles",
                "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            },
            "paths": paths,
            "components": {"schemas": self.schemas, "securitySchemes": SECURITY_SCHEMES},
        }

    def _operation(self, doc: RouteDoc | None, path: str, handler_name: str) -> dict[str, Any]:
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in PATH_PARAM.findall(path)
        ]
        if doc is None:  # still listed, so nothing registered is ever invisible
            return {
                "operationId": handler_name,
                "summary": "(undocumented)",
                "parameters": parameters,
                "responses": {"default": {"description": "not described yet"}},
            }
        if doc.query is not None:
            query = self.schemas[self.names[doc.query]]
            required = set(query.get("required", []))
            parameters += [
                {"name": name, "in": "query", "required": name in required, "schema": schema}
                for name, schema in query["properties"].items()
            ]
        parameters += [
            {
                "name": name,
                "in": "header",
                "required": False,
                "description": text,
                "schema": {"type": "string"},
            }
            for name, text in doc.headers.items()
        ]
        operation: dict[str, Any] = {
            "operationId": handler_name,
            "summary": doc.summary,
            "tags": [doc.tag],
            "parameters": parameters,
            "responses": {str(s): self._response(r) for s, r in sorted(doc.replies.items())},
            "security": [{scheme: []} if scheme else {} for scheme in doc.security],
        }
        if doc.description:
            operation["description"] = doc.description
        if doc.body is not None:
            operation["requestBody"] = self._request_body(doc)
        return operation

    def _request_body(self, doc: RouteDoc) -> dict[str, Any]:
        assert doc.body is not None
        if doc.body != EVENT_BODY:
            content = {doc.body_media_type: {"schema": self.schema_of(doc.body)}}
        else:
            plain = {"allOf": [ref(self.names[EventEnvelope]), ref(EVENT_BODY)]}
            cloud = {"allOf": [ref(self.names[CloudEventEnvelope]), ref(EVENT_BODY)]}
            content = {
                "application/json": {"schema": plain, "example": EXAMPLE_EVENT},
                "application/cloudevents+json": {"schema": cloud},
            }
        return {"required": doc.body_required, "content": content}

    def _response(self, reply: Reply) -> dict[str, Any]:
        response: dict[str, Any] = {"description": reply.description}
        if reply.schema is not None:
            response["content"] = {reply.media_type: {"schema": self.schema_of(reply.schema)}}
        if reply.headers:
            response["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in reply.headers.items()
            }
        return response


def _is_model(candidate: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)
