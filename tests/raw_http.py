"""HTTP as a hostile client writes it: raw bytes on a socket (headers aiohttp's client would
refuse to send, half requests, idle connections), and what the server answered."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from yarl import URL


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def connect(base_url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = URL(base_url)
    assert url.host in {"127.0.0.1", "::1", "localhost"}, "loopback only"
    return await asyncio.open_connection(url.host, url.port)


async def read_answer(reader: asyncio.StreamReader, wait_s: float = 10) -> RawAnswer | None:
    """The answer, or None if the server closed the connection without one."""
    async with asyncio.timeout(wait_s):
        head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
        if not head:
            return None
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        return RawAnswer(status, headers, body)


async def raw_request(base_url: str, request: bytes, wait_s: float = 10) -> RawAnswer | None:
    reader, writer = await connect(base_url)
    try:
        writer.write(request)
        await writer.drain()
        try:
            return await read_answer(reader, wait_s)
        except asyncio.IncompleteReadError:
            return None
    finally:
        writer.close()


def post_bytes(path: str, headers: dict[str, str], body: bytes) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
    for name, value in headers.items():
        head += f"{name}: {value}\r\n"
    return head.encode("utf-8") + b"\r\n" + body
