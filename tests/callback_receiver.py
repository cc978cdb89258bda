"""A producer's callback receiver, as its own process on loopback: verifies every request with
the `standardwebhooks` library (any of its secrets), records what arrived, and can be told to
fail, stay down or be slow.

    python -m tests.callback_receiver SECRET [SECRET ...]   # prints its port, then serves

GET /received: what arrived, in order. POST /behave {"fail": n, "status": 503,
"retry_after": "1", "delay_s": 0}: answer the next n requests with status (n = -1: always).
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

RECEIVED = web.AppKey("received", list)
BEHAVIOUR = web.AppKey("behaviour", dict)
SECRETS = web.AppKey("secrets", list)


def verified_by(secrets: list[str], body: bytes, headers: dict[str, str]) -> list[int]:
    """Which of our secrets verify the request (the receiver needs only one)."""
    found = []
    for index, secret in enumerate(secrets):
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            continue
        found.append(index)
    return found


async def hook(request: web.Request) -> web.Response:
    body = await request.read()
    headers = {k.lower(): v for k, v in request.headers.items()}
    behaviour = request.app[BEHAVIOUR]
    if behaviour.get("delay_s"):
        await asyncio.sleep(float(behaviour["delay_s"]))
    verified = verified_by(request.app[SECRETS], body, headers)
    failing = behaviour.get("fail", 0) != 0
    request.app[RECEIVED].append(
        {
            "path": request.path,
            "webhook_id": headers.get("webhook-id"),
            "signature": headers.get("webhook-signature"),
            "content_type": headers.get("content-type"),
            "traceparent": headers.get("traceparent"),
            "verified_by": verified,
            "event": json.loads(body) if verified else None,
            "answered": int(behaviour.get("status", 503)) if failing else 204,
        }
    )
    if not verified:
        return web.Response(status=401)
    if failing:
        if behaviour["fail"] > 0:
            behaviour["fail"] -= 1
        extra = {"Retry-After": str(behaviour["retry_after"])} if "retry_after" in behaviour else {}
        return web.Response(status=int(behaviour.get("status", 503)), headers=extra, text="down")
    return web.Response(status=204)


async def received(request: web.Request) -> web.Response:
    return web.json_response(request.app[RECEIVED])


async def behave(request: web.Request) -> web.Response:
    request.app[BEHAVIOUR].clear()
    request.app[BEHAVIOUR].update(await request.json())
    return web.json_response(request.app[BEHAVIOUR])


def create_app(secrets: list[str]) -> web.Application:
    app = web.Application()
    app[RECEIVED] = []
    app[BEHAVIOUR] = {}
    app[SECRETS] = secrets
    app.router.add_get("/received", received)
    app.router.add_post("/behave", behave)
    app.router.add_post("/{tail:.*}", hook)
    return app


async def main(secrets: list[str]) -> None:
    runner = web.AppRunner(create_app(secrets), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
