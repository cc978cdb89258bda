"""Middlewares each provider app installs: error rendering and idempotency keys."""

import logging
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from expbridge.sandbox.app_keys import CREDENTIAL, IDEMPOTENCY, RECORD
from expbridge.sandbox.errors import ApiError
from expbridge.sandbox.idempotency import StoredResponse, fingerprint, should_store

log = logging.getLogger(__name__)

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_middleware(
    from_http: Callable[[web.HTTPException], ApiError], internal: Callable[[], ApiError]
) -> Middleware:
    """Render every failure, routing ones included, in the provider's error shape."""

    @web.middleware
    async def render_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return from_http(exc).response()
        except Exception:
            log.exception("sandbox handler failed: %s %s", request.method, request.path)
            return internal().response()

    return render_errors


def idempotency_middleware(
    provider: str, in_use: Callable[[], ApiError], reused: Callable[[], ApiError]
) -> Middleware:
    """Honour `Idempotency-Key` per provider + credential + key, as Stripe does."""

    @web.middleware
    async def idempotency(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method not in MUTATING_METHODS:
            return await handler(request)
        store = request.config_dict[IDEMPOTENCY]
        scope = (provider, request[CREDENTIAL], key)
        request_fingerprint = fingerprint(request.method, request.path, await request.read())
        stored = store.responses.get(scope)
        if stored is not None:
            if stored.fingerprint != request_fingerprint:
                raise reused()
            request[RECORD].idempotent_replay = True
            replay = web.Response(status=stored.status, body=stored.body)
            if stored.content_type is not None:
                replay.headers["Content-Type"] = stored.content_type
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        if scope in store.in_flight:
            raise in_use()
        store.in_flight.add(scope)
        try:
            try:
                response = await handler(request)
            except ApiError as exc:
                response = exc.response()
        finally:
            store.in_flight.discard(scope)
        if should_store(response.status) and isinstance(response, web.Response):
            body = response.body if isinstance(response.body, bytes) else b""
            content_type = response.headers.get("Content-Type")
            store.responses[scope] = StoredResponse(
                request_fingerprint, response.status, body, content_type
            )
        return response

    return idempotency
