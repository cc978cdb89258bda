"""EXPBRIDGE_HTTP__*: how long the ingress waits for a client, and how many it holds at once."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HttpSettings(BaseModel):
    """Without these, a client that sends nothing, half a header (slowloris) or one request
    and then idles holds its connection (and a file descriptor) for ever."""

    # From the connection (or the first byte of a request) to the end of its headers.
    header_read_timeout_s: float = Field(10.0, gt=0, le=300)
    # An idle keep-alive connection between two requests.
    keepalive_timeout_s: float = Field(75.0, gt=0, le=3600)
    # Reading a request's body once its headers are in.
    body_read_timeout_s: float = Field(30.0, gt=0, le=600)
    # Connections one ingress process holds at once; more are answered 503 and closed.
    max_connections: int = Field(1000, ge=1, le=100_000)
    # aiohttp's header limits; over them is a 400 problem+json that does not echo the header.
    max_line_size: int = Field(8190, ge=1024, le=65536)
    max_field_size: int = Field(8190, ge=1024, le=65536)
    max_headers: int = Field(100, ge=16, le=1000)
