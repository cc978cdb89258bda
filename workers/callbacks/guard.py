"""Where a callback may go: never to a private, link-local, loopback (unless allowed), metadata
or otherwise special address — checked on the addresses a name resolves to, at every attempt,
and the connection is made only to an address that passed (no second lookup to rebind)."""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

# Cloud metadata services answer on these; no receiver ever does.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


class RefusedDestination(Exception):
    """The destination is not a public address (or loopback, where that is allowed)."""


def refusal(address: str, allow_loopback: bool) -> str | None:
    """Why a callback may not go to this IP address; None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    for special, what in (
        (ip.is_link_local, "a link-local address"),
        (ip.is_private, "a private address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    ):
        if special:
            return what
    return None


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


def is_loopback_literal(host: str) -> bool:
    return is_ip_literal(host) and ipaddress.ip_address(host.strip("[]")).is_loopback


class GuardedResolver(AbstractResolver):
    """Resolves as usual, then keeps only the addresses a callback may go to."""

    def __init__(self, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        resolved = await self._inner.resolve(host, port, family)
        allowed = [r for r in resolved if refusal(r["host"], self.allow_loopback) is None]
        if not allowed:
            why = refusal(resolved[0]["host"], self.allow_loopback) if resolved else "unresolved"
            raise RefusedDestination(f"{host} resolves to {why}")
        return allowed

    async def close(self) -> None:
        await self._inner.close()
