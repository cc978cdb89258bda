"""Standard Webhooks signatures authenticate a source; webhook-id is the idempotency key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from expbridge.config.settings import Settings
from tests.conftest import Ingress, running_ingress
from tests.helpers import start_event, stored_event_count

SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"


@pytest.fixture
async def hooked(make_settings: Callable[..., Settings]) -> AsyncIterator[Ingress]:
    settings = make_settings(sources={"hooks": {"webhook_secret": SECRET}})
    async with running_ingress(settings) as ingress:
        yield ingress


def signed(body: bytes, msg_id: str, when: datetime, secret: str = SECRET) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id, when, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }


async def test_valid_signature_is_accepted_and_replay_is_idempotent(
    hooked: Ingress, settings: Settings
) -> None:
    body = json.dumps(start_event("exp_1")).encode()
    headers = signed(body, "msg_1", datetime.now(UTC))
    first = await hooked.post_event(body, token=None, headers=headers)
    assert first.status == 202, await first.text()
    again = await hooked.post_event(body, token=None, headers=headers)
    assert again.status == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await first.json())["id"] == (await again.json())["id"]
    assert await stored_event_count(settings) == 1


async def test_wrong_signature_is_401(hooked: Ingress, settings: Settings) -> None:
    body = json.dumps(start_event("exp_1")).encode()
    headers = signed(body, "msg_2", datetime.now(UTC), secret="whsec_" + "b3RoZXItc2VjcmV0")
    response = await hooked.post_event(body, token=None, headers=headers)
    assert response.status == 401
    tampered = signed(body, "msg_3", datetime.now(UTC))
    response = await hooked.post_event(
        body.replace(b"exp_1", b"exp_2"), token=None, headers=tampered
    )
    assert response.status == 401
    garbled = {**tampered, "webhook-signature": "nonsense"}
    response = await hooked.post_event(body, token=None, headers=garbled)
    assert response.status == 401
    assert await stored_event_count(settings) == 0


async def test_stale_timestamp_is_401(hooked: Ingress, settings: Settings) -> None:
    body = json.dumps(start_event("exp_1")).encode()
    headers = signed(body, "msg_4", datetime.now(UTC) - timedelta(minutes=6))
    response = await hooked.post_event(body, token=None, headers=headers)
    assert response.status == 401
    assert "stale" in (await response.json(content_type=None))["detail"]
    assert SECRET not in await response.text()
    assert await stored_event_count(settings) == 0


async def test_a_captured_signed_request_cannot_be_replayed_under_a_new_idempotency_key(
    hooked: Ingress, settings: Settings
) -> None:
    """The signature covers webhook-id, not Idempotency-Key: the signed id is the key."""
    body = json.dumps(start_event("exp_1")).encode()
    headers = signed(body, "msg_captured", datetime.now(UTC))
    first = await hooked.post_event(body, token=None, headers=headers)
    assert first.status == 202, await first.text()
    for attempt in range(3):
        replay = {**headers, "Idempotency-Key": f"fresh-{attempt}"}
        again = await hooked.post_event(body, token=None, headers=replay)
        assert again.status == 202
        assert again.headers["Idempotent-Replayed"] == "true"
        assert (await again.json())["id"] == (await first.json())["id"]
    assert await stored_event_count(settings) == 1
