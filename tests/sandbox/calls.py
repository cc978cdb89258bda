"""Minimal test-side clients for the sandbox, written from providers.md, not from sandbox/."""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

QONVERSION_KEY = "test_sk_sandbox"
OTHER_QONVERSION_KEY = "sk_second_key"
APP_ID = "app-4711"
APP_SECRET = "s3cr3t-for-tests"
ACCOUNT_ID = "1000"


@dataclass
class Reply:
    status: int
    body: Any
    headers: CIMultiDictProxy[str]


async def _reply(response: aiohttp.ClientResponse) -> Reply:
    text = await response.text()
    try:
        body = json.loads(text) if text else None
    except json.JSONDecodeError:
        body = text
    return Reply(response.status, body, response.headers)


class Qonversion:
    def __init__(self, session: aiohttp.ClientSession, server_url: str) -> None:
        self.session = session
        self.base = f"{server_url}/qonversion/v4"

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = QONVERSION_KEY,
        headers: dict[str, str] | None = None,
        params: Any = None,
    ) -> Reply:
        sent = dict(headers or {})
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        async with self.session.request(
            method, self.base + path, json=body, headers=sent, params=params
        ) as response:
            return await _reply(response)

    async def create(self, name: str, alias_id: str, **fields: Any) -> dict[str, Any]:
        reply = await self.call(
            "POST", "/experiments", {"name": name, "alias_id": alias_id, **fields}
        )
        assert reply.status == 201, reply.body
        experiment: dict[str, Any] = reply.body
        return experiment


def convert_signature(secret: str, app_id: str, expires: str, url: str, body: bytes) -> str:
    message = app_id.encode() + b"\n" + expires.encode() + b"\n" + url.encode() + b"\n" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Convert:
    def __init__(self, session: aiohttp.ClientSession, server_url: str, version: str) -> None:
        self.session = session
        self.version = version
        root = f"{server_url}/convert/api/{version}"
        self.base = root if version == "v1" else f"{root}/accounts/{ACCOUNT_ID}"

    def signed_headers(self, url: str, body: bytes, expires: int | None = None) -> dict[str, str]:
        stamp = str(expires if expires is not None else int(time.time()) + 60)
        signature = convert_signature(APP_SECRET, APP_ID, stamp, url, body)
        return {
            "Convert-Application-ID": APP_ID,
            "Expires": stamp,
            "Authorization": f"Convert-HMAC-SHA256 Signature={signature}",
        }

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = self.base + path
        raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        sent = {**self.signed_headers(url, raw), **(headers or {})}
        if raw:
            sent["Content-Type"] = "application/json"
        async with self.session.request(method, url, data=raw, headers=sent) as response:
            return await _reply(response)

    async def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        reply = await self.call(method, path, body)
        assert reply.status == status, (reply.status, reply.body)
        return reply.body


async def control(
    session: aiohttp.ClientSession, server_url: str, method: str, path: str, body: Any = None
) -> Reply:
    async with session.request(method, f"{server_url}/_sandbox{path}", json=body) as response:
        return await _reply(response)
