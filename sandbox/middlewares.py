"""Middlewares in front of both providers: the request log, then injected faults."""

import asyncio
import json

from aiohttp import web
from aiohttp.typedefs import Handler

from expbridge.sandbox.app_keys import FAULTS, RECORD, REQUEST_LOG
from expbridge.sandbox.convert import errors as convert_errors
from expbridge.sandbox.faults import FaultSpec
from expbridge.sandbox.qonversion import errors as qonversion_errors

PROVIDER_PREFIXES = (("/qonversion/", "qonversion"), ("/convert/", "convert"))


def provider_of(path: str) -> str | None:
    return next((name for prefix, name in PROVIDER_PREFIXES if path.startswith(prefix)), None)


def query_dict(request: web.Request) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for name in request.query:
        values = request.query.getall(name)
        out[name] = values[0] if len(values) == 1 else list(values)
    return out


@web.middleware
async def record_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    provider = provider_of(request.path)
    if provider is None:
        return await handler(request)
    raw = await request.read()
    record = request.config_dict[REQUEST_LOG].start(
        provider, request.method, request.path, query_dict(request), request.headers, raw
    )
    request[RECORD] = record
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        record.status = exc.status
        raise
    except Exception:
        record.status = 500
        raise
    record.status = None if record.dropped else response.status
    return response


def fault_response(provider: str, spec: FaultSpec) -> web.Response:
    assert spec.status is not None
    headers = {"Content-Type": spec.content_type}
    if spec.retry_after is not None:
        headers["Retry-After"] = spec.retry_after
    if spec.body is None:
        errors = qonversion_errors if provider == "qonversion" else convert_errors
        body = json.dumps(errors.fault_payload(spec.status))
        headers["Content-Type"] = "application/json"
    else:
        body = spec.body
    return web.Response(status=spec.status, body=body.encode(), headers=headers)


def drop_connection(request: web.Request) -> web.Response:
    request[RECORD].dropped = True
    if request.transport is not None:
        request.transport.close()
    # Never delivered: the transport is closed, aiohttp just notes the client is gone.
    return web.Response(status=204)


async def run_handler(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return exc


@web.middleware
async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    provider = provider_of(request.path)
    if provider is None:
        return await handler(request)
    rule = request.config_dict[FAULTS].pick(request.method, request.path)
    if rule is None:
        return await handler(request)
    request[RECORD].fault = rule.describe()
    spec = rule.spec
    handled = await run_handler(request, handler) if spec.after_handling else None
    if spec.delay_s:
        await asyncio.sleep(spec.delay_s)
    if spec.drop:
        return drop_connection(request)
    if spec.status is not None:
        return fault_response(provider, spec)
    return handled if handled is not None else await handler(request)
