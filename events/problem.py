"""RFC 9457 problem+json bodies: the error format of every HTTP answer the bridge gives (the
ingress, and the worker's metrics endpoint). The OpenAPI document is generated from
`ProblemDetails`, and every problem is built from it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

PROBLEM_TYPE_BASE = "https://expbridge.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 application/problem+json; `errors` lists field errors on validation problems."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def problem_body(
    status: int, title: str, detail: str, slug: str, errors: list[dict[str, str]] | None = None
) -> bytes:
    problem = ProblemDetails(
        type=PROBLEM_TYPE_BASE + slug,
        title=title,
        status=status,
        detail=detail,
        errors=None if errors is None else [FieldError.model_validate(e) for e in errors],
    )
    return problem.model_dump_json(exclude_none=True).encode()
