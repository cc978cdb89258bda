"""Stripe-style idempotency keys: the first response to a key is kept and replayed."""

import hashlib
from dataclasses import dataclass, field

# Responses that mean "the request was refused before it started executing" are not kept,
# so a corrected retry with the same key runs (Stripe does the same for validation errors).
NOT_STORED_STATUSES = frozenset({400, 401, 403, 422, 429})


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: bytes
    content_type: str | None


@dataclass
class IdempotencyStore:
    responses: dict[tuple[str, str, str], StoredResponse] = field(default_factory=dict)
    in_flight: set[tuple[str, str, str]] = field(default_factory=set)

    def clear(self) -> None:
        self.responses.clear()
        self.in_flight.clear()


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What a retry must repeat exactly: method, path and body (not signatures or dates)."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{method.upper()} {path} {digest}"


def should_store(status: int) -> bool:
    return status < 500 and status not in NOT_STORED_STATUSES
