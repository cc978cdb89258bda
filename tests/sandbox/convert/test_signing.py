"""Convert request signing: a correct signature passes, every kind of tampering is a 401."""

import hashlib
import hmac
import json
import time

import aiohttp
import pytest

from expbridge.sandbox.runner import SandboxServer
from tests.sandbox.calls import APP_ID, APP_SECRET, Convert, convert_signature


def test_signature_matches_a_fixed_vector() -> None:
    # Worked by hand from providers.md: app id, Expires, URL and body joined by newlines.
    message = b'app-4711\n1800000000\nhttp://127.0.0.1:8090/convert/api/v1/projects\n{"page":1}'
    expected = hmac.new(APP_SECRET.encode(), message, hashlib.sha256).hexdigest()
    url = "http://127.0.0.1:8090/convert/api/v1/projects"
    assert convert_signature(APP_SECRET, APP_ID, "1800000000", url, b'{"page":1}') == expected


async def _send(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, object]]:
    async with session.post(url, data=body, headers=headers) as response:
        return response.status, await response.json()


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_signed_request_is_accepted(cv1: Convert, cv2: Convert, version: str) -> None:
    client = cv1 if version == "v1" else cv2
    body = {"page": 1, "results_per_page": 10}
    reply = await client.call("POST", "/projects", body)
    assert reply.status == 200


async def test_signature_covers_the_query_string(
    session: aiohttp.ClientSession, server: SandboxServer, cv1: Convert
) -> None:
    url = f"{server.url}/convert/api/v1/projects/?page=2"
    headers = cv1.signed_headers(url, b"")
    async with session.get(url, headers=headers) as response:
        assert response.status == 200
    unsigned_query = cv1.signed_headers(f"{server.url}/convert/api/v1/projects/", b"")
    async with session.get(url, headers=unsigned_query) as response:
        assert response.status == 401


def _tamper(kind: str, headers: dict[str, str]) -> tuple[dict[str, str], bytes | None]:
    """Headers and, when the body is what changes, the body actually sent."""
    if kind == "wrong_signature":
        return {**headers, "Authorization": "Convert-HMAC-SHA256 Signature=" + "0" * 64}, None
    if kind == "uppercase_signature":
        prefix, signature = headers["Authorization"].split("=", 1)
        return {**headers, "Authorization": f"{prefix}={signature.upper()}"}, None
    if kind == "body_changed":
        return headers, b'{"name":"Shop!"}'
    if kind == "wrong_app_id":
        return {**headers, "Convert-Application-ID": "other-app"}, None
    missing = kind.removeprefix("missing_").replace("_", "-")
    return {k: v for k, v in headers.items() if k.lower() != missing.lower()}, None


@pytest.mark.parametrize(
    "kind",
    [
        "wrong_signature",
        "uppercase_signature",
        "body_changed",
        "wrong_app_id",
        "missing_Authorization",
        "missing_Expires",
        "missing_Convert_Application_ID",
    ],
)
async def test_tampering_is_rejected(
    session: aiohttp.ClientSession, server: SandboxServer, cv1: Convert, kind: str
) -> None:
    url = f"{server.url}/convert/api/v1/projects/add"
    body = json.dumps({"name": "Shop"}, separators=(",", ":")).encode()
    headers, changed = _tamper(kind, cv1.signed_headers(url, body))
    status, reply = await _send(session, url, headers, changed or body)
    assert status == 401
    assert reply["code"] == 401 and reply["message"]
    state = await (await session.get(f"{server.url}/_sandbox/state")).json()
    assert state["convert"]["projects"] == {}


@pytest.mark.parametrize("offset", [-5, 601, 100_000])
async def test_expires_outside_the_window_is_rejected(
    session: aiohttp.ClientSession, server: SandboxServer, cv2: Convert, offset: int
) -> None:
    url = f"{server.url}/convert/api/v2/accounts/1000/projects"
    headers = cv2.signed_headers(url, b"", expires=int(time.time()) + offset)
    status, reply = await _send(session, url, headers, b"")
    assert status == 401 and reply["code"] == 401


async def test_non_numeric_expires_is_rejected(
    session: aiohttp.ClientSession, server: SandboxServer, cv1: Convert
) -> None:
    url = f"{server.url}/convert/api/v1/projects"
    headers = cv1.signed_headers(url, b"")
    stamp = "soon"
    signature = convert_signature(APP_SECRET, APP_ID, stamp, url, b"")
    headers.update(
        {"Expires": stamp, "Authorization": f"Convert-HMAC-SHA256 Signature={signature}"}
    )
    assert (await _send(session, url, headers, b""))[0] == 401
