"""Request helpers shared by the Convert v1 and v2 handlers."""

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from expbridge.sandbox.app_keys import CONFIG, CONVERT
from expbridge.sandbox.convert import errors
from expbridge.sandbox.convert.state import ConvertState
from expbridge.sandbox.errors import BodyError, field_errors, parse_json_object

M = TypeVar("M", bound=BaseModel)


def state_of(request: web.Request) -> ConvertState:
    return request.config_dict[CONVERT]


def seed_of(request: web.Request) -> int:
    return request.config_dict[CONFIG].seed


def validated(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise errors.validation_failed(field_errors(exc.errors())) from exc


async def read_object(request: web.Request, *, allow_empty: bool = False) -> dict[str, Any]:
    try:
        return parse_json_object(await request.read(), allow_empty=allow_empty)
    except BodyError as exc:
        raise errors.bad_request(str(exc)) from exc


async def parse_body(request: web.Request, model: type[M], *, allow_empty: bool = False) -> M:
    return validated(model, await read_object(request, allow_empty=allow_empty))


def json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)
