"""From request bytes to a validated event: envelope, type, target, data — or a Problem."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from expbridge.config.settings import Settings
from expbridge.events.catalog import CATALOG, CatalogError, EventData, parse_data, spec_of
from expbridge.events.envelope import CloudEventEnvelope, EventEnvelope
from expbridge.events.schedule import check_ahead, parse_moment
from expbridge.events.target_refs import TARGET_ADAPTER
from expbridge.events.targets import AliasTarget, AnyTarget
from expbridge.service import app_keys as keys
from expbridge.service.problems import Problem
from expbridge.service.strict_json import JsonRejected, loads_strict

JSON_TYPES = {"application/json", "application/cloudevents+json"}


@dataclass(frozen=True)
class ValidatedEvent:
    data: EventData  # its target resolved (an alias replaced by what it names)

    @property
    def ordering_key(self) -> str:
        return self.data.ordering_key


def field_errors(error: ValidationError, prefix: tuple[str, ...] = ()) -> list[dict[str, str]]:
    out = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        loc = [*prefix, *(str(p) for p in item["loc"])]
        out.append({"field": ".".join(loc) or "body", "message": item["msg"]})
    return out


def unprocessable(detail: str, errors: list[dict[str, str]]) -> Problem:
    return Problem(422, "Unprocessable event", detail, slug="validation", errors=errors)


def received_body(request: web.Request, settings: Settings) -> bytes | None:
    """The request body if all of it has come (most do, with their headers), else None (then
    `read_body`); a 413 over `EXPBRIDGE_MAX_BODY_BYTES`, before reading it. A function, not a
    coroutine, for the accept path."""
    limit = settings.max_body_bytes
    length = request.content_length
    if length is not None and length > limit:
        raise Problem(413, "Payload too large", f"the body is over the limit of {limit} bytes")
    payload = request.content
    if not payload.is_eof():
        return None
    body = payload.read_nowait()  # what came, without a coroutine per chunk
    if len(body) > limit:  # chunked, so no Content-Length said it first
        raise Problem(413, "Payload too large", f"the body is over the limit of {limit} bytes")
    return body


async def read_body(request: web.Request, settings: Settings | None = None) -> bytes:
    """The request body: a 413 over `EXPBRIDGE_MAX_BODY_BYTES` (before reading it), a 408 when
    it does not arrive in time. A body already all received is read without arming the
    timer."""
    settings = settings or request.app[keys.SETTINGS]
    body = received_body(request, settings)
    if body is not None:
        return body
    timeout = settings.http.body_read_timeout_s
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise Problem(
            408, "Request timeout", f"the body did not arrive within {timeout:g} s"
        ) from None


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = loads_strict(body)
    except JsonRejected as error:
        raise Problem(400, "Malformed JSON", f"the body is not strict JSON: {error}") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise Problem(400, "Malformed JSON", f"the body is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise Problem(400, "Malformed JSON", "the body must be a JSON object")
    return parsed


def binary_mode_envelope(headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """CloudEvents binary mode: attributes in ce-* headers, the data as the body."""
    raw: dict[str, Any] = {
        name[3:].lower(): value for name, value in headers.items() if name.lower().startswith("ce-")
    }
    raw["data"] = parse_json_object(body)
    return raw


def parse_envelope(content_type: str, raw: dict[str, Any], binary: bool) -> EventEnvelope:
    model: type[BaseModel] = (
        CloudEventEnvelope
        if binary or content_type == "application/cloudevents+json"
        else EventEnvelope
    )
    try:  # (the validator itself: model_validate is a Python layer around it)
        envelope = model.__pydantic_validator__.validate_python(raw)
    except ValidationError as error:
        raise unprocessable("the event envelope is invalid", field_errors(error)) from None
    assert isinstance(envelope, EventEnvelope)
    return envelope


def resolve_target(raw_target: Any, aliases: Mapping[str, AnyTarget]) -> AnyTarget:
    if isinstance(raw_target, dict) and "alias" in raw_target:
        try:
            alias = AliasTarget.model_validate(raw_target)
        except ValidationError as error:
            errors = field_errors(error, ("data", "target"))
            raise unprocessable("data.target is invalid", errors) from None
        if alias.alias not in aliases:
            known = ", ".join(sorted(aliases)) or "none configured"
            raise unprocessable(
                f"unknown target alias {alias.alias!r} (known: {known})",
                [{"field": "data.target.alias", "message": "unknown alias"}],
            )
        return aliases[alias.alias]
    try:
        return TARGET_ADAPTER.validate_python(raw_target)
    except ValidationError as error:
        errors = field_errors(error, ("data", "target"))
        # A discriminated union puts the provider tag in the path: data.target.<provider>.x
        tag = f"data.target.{raw_target.get('provider')}." if isinstance(raw_target, dict) else ""
        for item in errors:
            if tag and item["field"].startswith(tag):
                item["field"] = "data.target." + item["field"][len(tag) :]
        raise unprocessable("data.target is invalid", errors) from None


def validate_event(envelope: EventEnvelope, aliases: Mapping[str, AnyTarget]) -> ValidatedEvent:
    try:
        spec_of(envelope.type)
    except CatalogError:
        raise unprocessable(
            f"unknown event type {envelope.type!r}; known types: {', '.join(sorted(CATALOG))}",
            [{"field": "type", "message": "unknown event type"}],
        ) from None
    if "target" not in envelope.data:
        raise unprocessable(
            "data.target is required", [{"field": "data.target", "message": "required"}]
        )
    raw_target = envelope.data["target"]
    if type(raw_target) is dict and "alias" not in raw_target and None not in raw_target.values():
        # The common case in one validation: a target of fields (whose defaults are all None)
        # comes out of the catalog model as it would from the target model first. Anything
        # wrong takes the path below, which says where.
        try:
            return ValidatedEvent(parse_data(envelope.type, envelope.data))
        except CatalogError:
            pass
    target = resolve_target(raw_target, aliases)
    target_fields = target.model_dump(exclude_none=True)
    try:
        data = parse_data(envelope.type, {**envelope.data, "target": target_fields})
    except CatalogError as error:
        if error.error is None:  # the target's provider does not take this type
            raise unprocessable(
                error.describe(),
                [{"field": "type", "message": f"not supported by {target.provider}"}],
            ) from None
        raise unprocessable(
            f"data is invalid for {envelope.type}", field_errors(error.error, ("data",))
        ) from None
    return ValidatedEvent(data)


def not_before_of(envelope: EventEnvelope, now: datetime, max_ahead_s: float) -> datetime | None:
    """When the event takes effect, if it says: `not_before` beside `type` in JSON mode, the
    extension attribute `notbefore` of a CloudEvent. A 422 names the field when it is not an
    RFC 3339 time with a zone, or is further ahead than the limit."""
    name, value = envelope.schedule_field, envelope.schedule()
    if value is None:
        return None
    try:
        moment = parse_moment(value)
        check_ahead(moment, now, max_ahead_s)
    except ValueError as error:
        raise unprocessable(f"{name} {error}", [{"field": name, "message": str(error)}]) from None
    return moment
