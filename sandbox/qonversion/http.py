"""Request helpers shared by the Qonversion handlers: bodies, path ids, lookups."""

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from expbridge.sandbox.app_keys import CONFIG, QONVERSION
from expbridge.sandbox.errors import BodyError, field_errors, parse_json_object
from expbridge.sandbox.qonversion import errors
from expbridge.sandbox.qonversion.bodies import id_problems
from expbridge.sandbox.qonversion.state import QonversionState

M = TypeVar("M", bound=BaseModel)


def state_of(request: web.Request) -> QonversionState:
    return request.config_dict[QONVERSION]


def seed_of(request: web.Request) -> int:
    return request.config_dict[CONFIG].seed


async def parse_body(request: web.Request, model: type[M], *, allow_empty: bool = False) -> M:
    try:
        data = parse_json_object(await request.read(), allow_empty=allow_empty)
    except BodyError as exc:
        raise errors.invalid_json(str(exc)) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.validation_failed(field_errors(exc.errors())) from exc


def experiment_from_path(request: web.Request) -> dict[str, Any]:
    ref = request.match_info["experiment_id"]
    problems = id_problems("experiment_id", ref)
    if problems:
        raise errors.invalid_parameter([("experiment_id", p) for p in problems])
    experiment = state_of(request).find_experiment(ref)
    if experiment is None:
        raise errors.not_found(f"Experiment {ref!r}")
    return experiment


def json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)
