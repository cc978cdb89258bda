"""Which addresses a callback may go to (no traffic: the addresses are only classified)."""

from __future__ import annotations

import pytest

from expbridge.workers.callbacks.guard import is_ip_literal, refusal


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("169.254.10.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("fc00::1", "a private address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("100.64.0.1", "not a public address"),
        ("0.0.0.0", "a private address"),
        ("224.0.0.1", "a multicast address"),
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_refusal(address: str, why: str | None) -> None:
    assert refusal(address, allow_loopback=False) == why


def test_loopback_only_when_allowed() -> None:
    assert refusal("127.0.0.1", allow_loopback=True) is None
    assert refusal("::ffff:127.0.0.1", allow_loopback=True) is None
    assert refusal("10.0.0.1", allow_loopback=True) == "a private address"


def test_ip_literals() -> None:
    assert is_ip_literal("127.0.0.1") and is_ip_literal("[::1]") and is_ip_literal("::1")
    assert not is_ip_literal("localhost") and not is_ip_literal("hooks.example.com")


async def test_plain_http_goes_only_to_loopback() -> None:
    from yarl import URL

    from expbridge.config.loading import load_settings
    from expbridge.workers.callbacks.client import CallbackClient
    from expbridge.workers.callbacks.guard import RefusedDestination

    allowed = CallbackClient(load_settings(callbacks={"allow_loopback": True}))
    allowed._check(URL("http://127.0.0.1:9/x"))
    allowed._check(URL("http://localhost:9/x"))
    for url in ("http://93.184.215.14/x", "http://hooks.example.com/x", "https://10.0.0.1/"):
        with pytest.raises(RefusedDestination):
            allowed._check(URL(url))
    strict = CallbackClient(load_settings())
    for url in ("http://127.0.0.1:9/x", "https://127.0.0.1/", "https://[::1]/"):
        with pytest.raises(RefusedDestination):
            strict._check(URL(url))
    strict._check(URL("https://hooks.example.com/x"))  # names are checked when resolved
