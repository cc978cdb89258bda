"""Upstream errors of both providers become our exceptions with status, the provider's code and
message, and Retry-After: parsed from each error shape, and from bodies that are not JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from expbridge.config.settings import Settings
from expbridge.workers.clients import ProviderClients, build_clients
from expbridge.workers.providers.convert.errors import parse_convert_error
from expbridge.workers.providers.errors import (
    AuthUpstreamError,
    PermanentUpstreamError,
    TransientUpstreamError,
)
from tests.helpers import add_fault, convert_overrides


@pytest.mark.parametrize(
    ("parsed", "text", "code", "message"),
    [
        ({"code": 404, "message": "Project 9 not found"}, "", "404", "Project 9 not found"),
        (
            {
                "code": 422,
                "message": ["name: required", "status: bad"],
                "fields": {"name": "required", "status": "bad"},
            },
            "",
            "422",
            "name: required; status: bad",
        ),  # fields already in the message: not repeated
        (
            {"code": 400, "message": "Invalid", "parameters": ["page must be >= 1"]},
            "",
            "400",
            "Invalid (page must be >= 1)",
        ),
        (
            {"code": 400, "message": "Invalid", "parameters": {"page": "too small"}},
            "",
            "400",
            "Invalid (page: too small)",
        ),
        (
            None,
            "<html><h1>502 Bad Gateway</h1></html>",
            None,
            "<html><h1>502 Bad Gateway</h1></html>",
        ),
        ({"unexpected": True}, '{"unexpected": true}', None, '{"unexpected": true}'),
        (None, "", None, "no error body"),
    ],
)
def test_convert_error_shapes(parsed: Any, text: str, code: str | None, message: str) -> None:
    assert parse_convert_error(parsed, text) == (code, message)


@pytest.fixture(params=["v1", "v2"])
async def clients(
    request: pytest.FixtureRequest, make_settings: Any, sandbox: Any
) -> AsyncIterator[ProviderClients]:
    settings: Settings = make_settings(convert=convert_overrides(sandbox.url, request.param))
    async with aiohttp.ClientSession() as session:
        yield build_clients(settings, session)


async def test_convert_not_found_is_permanent_with_code_and_message(
    clients: ProviderClients,
) -> None:
    with pytest.raises(PermanentUpstreamError) as caught:
        await clients.convert.get("projects", "424242")
    error = caught.value
    assert (error.status, error.code, error.provider) == (404, "404", "convert")
    assert "Project 424242 not found" in error.message


async def test_convert_validation_error_names_the_fields(
    clients: ProviderClients, sandbox: Any
) -> None:
    with pytest.raises(PermanentUpstreamError) as caught:
        await clients.convert.create("projects", None, {"name": "x", "status": "gone"}, "k1")
    assert caught.value.status == 422 and "status" in caught.value.message


async def test_rate_limit_carries_retry_after(clients: ProviderClients, sandbox: Any) -> None:
    await add_fault(sandbox.url, path_prefix="/convert/", status=429, retry_after="7", count=1)
    with pytest.raises(TransientUpstreamError) as caught:
        await clients.convert.list_page("projects", None, 1)
    error = caught.value
    assert (error.status, error.retry_after_s, error.rate_limited) == (429, 7.0, True)
    assert error.code == "429"


async def test_a_body_that_is_not_json(clients: ProviderClients, sandbox: Any) -> None:
    for prefix in ("/convert/", "/qonversion/"):
        await add_fault(
            sandbox.url,
            path_prefix=prefix,
            status=502,
            count=1,
            body="<html>bad gateway</html>",
            content_type="text/html",
        )
    with pytest.raises(TransientUpstreamError) as caught:
        await clients.convert.get("projects", "1")
    assert (caught.value.status, caught.value.code) == (502, None)
    assert caught.value.message == "<html>bad gateway</html>"
    with pytest.raises(TransientUpstreamError) as caught:
        await clients.qonversion.get_experiment("exp_1")
    assert (caught.value.status, caught.value.code) == (502, None)
    assert "bad gateway" in caught.value.message


async def test_qonversion_errors_carry_the_code(clients: ProviderClients, sandbox: Any) -> None:
    with pytest.raises(PermanentUpstreamError) as caught:
        await clients.qonversion.get_experiment("exp_missing")
    assert (caught.value.status, caught.value.code) == (404, "resource_not_found")
    with pytest.raises(PermanentUpstreamError) as caught:
        await clients.qonversion.create_experiment({"name": "x", "alias_id": "a b"}, "k2")
    assert caught.value.status == 422 and "alias_id" in caught.value.message


async def test_wrong_credentials_are_auth_errors(make_settings: Any, sandbox: Any) -> None:
    wrong = {**convert_overrides(sandbox.url, "v1"), "app_secret": "not-the-secret"}
    settings = make_settings(qonversion={"secret_key": "sk_wrong"}, convert=wrong)
    async with aiohttp.ClientSession() as session:
        clients = build_clients(settings, session)
        with pytest.raises(AuthUpstreamError) as caught:
            await clients.convert.list_page("projects", None, 1)
        assert caught.value.status == 401 and "signature" in caught.value.message.lower()
        with pytest.raises(AuthUpstreamError) as caught:
            await clients.qonversion.get_experiment("exp_1")
        assert caught.value.code == "control_unauthorized"
