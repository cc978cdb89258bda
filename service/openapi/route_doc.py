"""The shape of one route's entry in the OpenAPI document (service/openapi/paths/ lists them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel

from expbridge.service import answers

PROBLEM_JSON = "application/problem+json"
# Named schemas the generator builds (from the catalog and the status record), not models.
EVENT_BODY = "Event"
STATUS_RECORD = answers.STATUS_RECORD
SOURCE, ADMIN, WEBHOOK, METRICS = "sourceToken", "adminToken", "webhookSignature", "metricsToken"
SLACK = "slackSignature"
ANONYMOUS = ""  # in `security`: may also be called without credentials


@dataclass(frozen=True)
class Reply:
    description: str
    # A model, a generated schema's name, a literal JSON schema, or None for no body.
    schema: type[BaseModel] | str | Mapping[str, Any] | None = None
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RouteDoc:
    method: str
    path: str
    summary: str
    tag: str
    replies: Mapping[int, Reply]
    description: str = ""
    security: tuple[str, ...] = ()  # any one of these schemes (or ANONYMOUS); empty: open
    query: type[BaseModel] | None = None
    body: type[BaseModel] | str | None = None
    body_required: bool = True
    body_media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


def problems(*statuses: int, **details: str) -> dict[int, Reply]:
    """problem+json replies; `details` as s422="..." say when a status happens on this route."""
    return {
        status: Reply(
            details.get(f"s{status}", HTTPStatus(status).phrase),
            answers.ProblemDetails,
            PROBLEM_JSON,
        )
        for status in statuses
    }


def text(description: str, media_type: str) -> Reply:
    return Reply(description, {"type": "string"}, media_type)


ADMIN_PROBLEMS = problems(401, 403, s403="admin endpoints are closed: EXPBRIDGE_ADMIN_TOKEN unset")
