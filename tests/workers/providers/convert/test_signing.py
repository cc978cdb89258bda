"""Convert request signing: fixed vectors worked in the test, and the sandbox over real HTTP
accepting what we sign and refusing every kind of tampering."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from expbridge.sandbox.runner import SandboxServer, start_sandbox
from expbridge.workers.providers.convert.client import ConvertClient
from expbridge.workers.providers.convert.routes import V1
from expbridge.workers.providers.convert.signing import ConvertSigner, sign, signed_headers

APP_ID, SECRET = "sandbox-app", "sandbox-secret"
EXPIRES = "1800000000"
URL = "https://api.convert.com/api/v1/experiences/add/1001"
BODY = b'{"name":"Hero","experience_type":"a/b"}'


def expected(app_id: str, secret: str, expires: str, url: str, body: bytes) -> str:
    message = f"{app_id}\n{expires}\n{url}\n".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def test_signature_matches_the_vector() -> None:
    signature = sign(APP_ID, SECRET, EXPIRES, URL, BODY)
    assert signature == expected(APP_ID, SECRET, EXPIRES, URL, BODY)
    assert len(signature) == 64 and signature == signature.lower()


def test_an_empty_body_signs_as_nothing_after_the_url() -> None:
    url = "https://api.convert.com/api/v1/projects/get/1001"
    assert sign(APP_ID, SECRET, EXPIRES, url, b"") == expected(APP_ID, SECRET, EXPIRES, url, b"")


@pytest.mark.parametrize(
    "changed",
    [
        {"app_id": "other-app"},
        {"secret": "other-secret"},
        {"expires": "1800000001"},
        {"url": URL + "?page=2"},
        {"url": URL.replace("1001", "1002")},
        {"body": BODY.replace(b'"a/b"', b'"a/a"')},
        {"body": BODY.replace(b",", b", ")},
    ],
)
def test_every_input_is_inside_the_signature(changed: dict[str, Any]) -> None:
    inputs: dict[str, Any] = {
        "app_id": APP_ID,
        "secret": SECRET,
        "expires": EXPIRES,
        "url": URL,
        "body": BODY,
    }
    assert sign(**{**inputs, **changed}) != sign(**inputs)


def test_headers_and_expires() -> None:
    headers = signed_headers(APP_ID, SECRET, int(EXPIRES), URL, BODY)
    assert headers == {
        "Convert-Application-ID": APP_ID,
        "Expires": EXPIRES,
        "Authorization": "Convert-HMAC-SHA256 Signature="
        + expected(APP_ID, SECRET, EXPIRES, URL, BODY),
    }
    signer = ConvertSigner(APP_ID, SECRET, ttl_s=90, clock=lambda: 1_700_000_000.7)
    assert signer("POST", URL, BODY)["Expires"] == "1700000090"
    assert SECRET not in repr(signer)
    for ttl in (59, 301):
        with pytest.raises(ValueError):
            ConvertSigner(APP_ID, SECRET, ttl_s=ttl)


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with await start_sandbox() as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def _state(session: aiohttp.ClientSession, server: SandboxServer) -> dict[str, Any]:
    async with session.get(f"{server.url}/_sandbox/state") as response:
        state: dict[str, Any] = await response.json()
        return state


def _tampered(kind: str, url: str, body: bytes) -> tuple[str, bytes, dict[str, str]]:
    """What is sent after signing (url, body, headers), with one thing changed."""
    now = int(time.time())
    headers = signed_headers(APP_ID, SECRET, now + 120, url, body)
    if kind == "body":
        return url, body.replace(b"Blog", b"Blag"), headers
    if kind == "url":
        return url + "?page=1", body, headers
    if kind == "expires":
        return url, body, {**headers, "Expires": str(now + 150)}
    if kind == "app_id":
        return url, body, {**headers, "Convert-Application-ID": "other-app"}
    if kind == "secret":
        return url, body, signed_headers(APP_ID, "not-the-secret", now + 120, url, body)
    if kind == "expired":
        return url, body, signed_headers(APP_ID, SECRET, now - 5, url, body)
    assert kind == "unsigned"
    return url, body, {k: v for k, v in headers.items() if k != "Authorization"}


@pytest.mark.parametrize(
    "kind", ["body", "url", "expires", "app_id", "secret", "expired", "unsigned"]
)
async def test_the_sandbox_rejects_tampering(
    server: SandboxServer, session: aiohttp.ClientSession, kind: str
) -> None:
    url = f"{server.url}/convert/api/v1/projects/add"
    body = json.dumps({"name": "Blog"}, separators=(",", ":")).encode()
    async with session.post(
        url, data=body, headers=signed_headers(APP_ID, SECRET, int(time.time()) + 120, url, body)
    ) as response:
        assert response.status == 200  # untampered: accepted
    sent_url, sent_body, headers = _tampered(kind, url, body)
    async with session.post(sent_url, data=sent_body, headers=headers) as response:
        assert response.status == 401, kind
        assert (await response.json())["code"] == 401
    names = [p["name"] for p in (await _state(session, server))["convert"]["projects"].values()]
    assert names == ["Blog"]


async def test_every_attempt_is_signed_again(
    server: SandboxServer, session: aiohttp.ClientSession
) -> None:
    ticks = itertools.count(int(time.time()))
    signer = ConvertSigner(APP_ID, SECRET, clock=lambda: float(next(ticks)))
    client = ConvertClient(
        session, V1, f"{server.url}/convert/api/v1", signer, account_id=None, timeout_s=2
    )
    for _ in range(2):
        await client.create("projects", None, {"name": "Shop"}, "same-key")
    async with session.get(f"{server.url}/_sandbox/requests") as response:
        calls = await response.json()
    assert [c["status"] for c in calls] == [200, 200]
    assert calls[1]["idempotent_replay"] is True
    assert int(calls[1]["headers"]["Expires"]) == int(calls[0]["headers"]["Expires"]) + 1
