"""The simulated Qonversion v4 API, mounted by the sandbox under /qonversion/v4."""

from aiohttp import web
from aiohttp.typedefs import Handler

from expbridge.sandbox.app_keys import CONFIG, CREDENTIAL
from expbridge.sandbox.errors import ApiError
from expbridge.sandbox.provider_middlewares import error_middleware, idempotency_middleware
from expbridge.sandbox.qonversion import errors
from expbridge.sandbox.qonversion.experiments import (
    create_experiment,
    delete_experiment,
    get_experiment,
    list_experiments,
    patch_experiment,
    set_status,
)
from expbridge.sandbox.qonversion.groups import attach_user, create_group, detach_user, list_groups
from expbridge.sandbox.qonversion.summary import experiments_summary


@web.middleware
async def bearer_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    header = request.headers.get("Authorization")
    if not header:
        raise errors.unauthorized("Missing Authorization header")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise errors.unauthorized("Authorization must be 'Bearer <secret key>'")
    if token not in request.config_dict[CONFIG].qonversion_keys:
        raise errors.unauthorized("Invalid secret key")
    request[CREDENTIAL] = token
    return await handler(request)


def from_http(exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return errors.QonversionError(404, "request", errors.CODE_ROUTE_NOT_FOUND, "No such route")
    if exc.status == 405:
        code = errors.CODE_METHOD_NOT_ALLOWED
        return errors.QonversionError(405, "request", code, "Method not allowed")
    return errors.QonversionError(exc.status, "request", "request_failed", exc.reason)


def internal() -> ApiError:
    return errors.QonversionError(500, "internal", errors.CODE_INTERNAL, "Internal error")


def idempotency_in_use() -> ApiError:
    message = "A request with this Idempotency-Key is still being processed"
    return errors.QonversionError(409, "request", errors.CODE_IDEMPOTENCY_IN_USE, message)


def idempotency_reused() -> ApiError:
    message = "This Idempotency-Key was used with a different request"
    return errors.QonversionError(422, "request", errors.CODE_IDEMPOTENCY_REUSED, message)


def create_qonversion_app() -> web.Application:
    app = web.Application(
        middlewares=[
            error_middleware(from_http, internal),
            bearer_auth,
            idempotency_middleware("qonversion", idempotency_in_use, idempotency_reused),
        ]
    )
    one = "/experiments/{experiment_id}"
    app.router.add_get("/experiments", list_experiments)
    app.router.add_post("/experiments", create_experiment)
    # Registered before the {experiment_id} routes, which would otherwise swallow it.
    app.router.add_get("/experiments/summary", experiments_summary)
    app.router.add_get(one, get_experiment)
    app.router.add_patch(one, patch_experiment)
    app.router.add_delete(one, delete_experiment)
    app.router.add_post(f"{one}/status", set_status)
    app.router.add_get(f"{one}/groups", list_groups)
    app.router.add_post(f"{one}/groups", create_group)
    app.router.add_post(f"{one}/users/{{user_id}}", attach_user)
    app.router.add_delete(f"{one}/users/{{user_id}}", detach_user)
    return app
