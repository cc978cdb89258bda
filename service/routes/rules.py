"""GET /v1/rules/evaluations (admin): what the lifecycle rules decided, newest first — fired,
dry runs, not met with the reasons, already fired, errors."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from expbridge.events.rules.evaluation_log import EvaluationOutcome
from expbridge.service import answers
from expbridge.service import app_keys as keys
from expbridge.service.problems import Problem
from expbridge.service.validation import field_errors

routes = web.RouteTableDef()


class EvaluationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str | None = None
    target: str | None = Field(None, description="an ordering key, e.g. qonversion:exp_8f3a")
    outcome: EvaluationOutcome | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50


@routes.get("/v1/rules/evaluations")
async def list_evaluations(request: web.Request) -> web.Response:
    request.app[keys.AUTHENTICATOR].require_admin(request)
    try:
        query = EvaluationQuery.model_validate(dict(request.query))
    except ValidationError as error:
        raise Problem(
            422,
            "Invalid request",
            "the query is invalid",
            slug="validation",
            errors=field_errors(error),
        ) from None
    found = await request.app[keys.RULE_LOG].recent(
        query.limit, rule=query.rule, target=query.target, outcome=query.outcome
    )
    return answers.RuleEvaluationPage(data=found).response()
