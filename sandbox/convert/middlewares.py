"""The middleware stack both Convert API versions share: errors, signing, idempotency."""

from aiohttp import web
from aiohttp.typedefs import Middleware

from expbridge.sandbox.convert.errors import ConvertError
from expbridge.sandbox.convert.signing import signed_requests
from expbridge.sandbox.errors import ApiError
from expbridge.sandbox.provider_middlewares import error_middleware, idempotency_middleware


def from_http(exc: web.HTTPException) -> ApiError:
    messages = {404: "Not found", 405: "Method not allowed"}
    return ConvertError(exc.status, messages.get(exc.status, exc.reason))


def internal() -> ApiError:
    return ConvertError(500, "Internal error")


def idempotency_in_use() -> ApiError:
    return ConvertError(409, "A request with this Idempotency-Key is still being processed")


def idempotency_reused() -> ApiError:
    return ConvertError(422, "This Idempotency-Key was used with a different request")


def convert_middlewares(*extra: Middleware) -> list[Middleware]:
    """`extra` runs after the signature check and before idempotency."""
    return [
        error_middleware(from_http, internal),
        signed_requests,
        *extra,
        idempotency_middleware("convert", idempotency_in_use, idempotency_reused),
    ]
