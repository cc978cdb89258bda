"""Convert request signing (providers.md; v1 and v2 alike).

The signature is lowercase hex HMAC-SHA256, keyed with the application secret, over
`<app id>\\n<Expires>\\n<full request URL>\\n<exact body bytes, or nothing>`. Expires is inside
the signature, so every attempt is signed again with a fresh Expires.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SCHEME = "Convert-HMAC-SHA256"
MIN_TTL_S, MAX_TTL_S = 60, 300
DEFAULT_TTL_S = 120


def string_to_sign(app_id: str, expires: str, url: str, body: bytes) -> bytes:
    return b"\n".join([app_id.encode(), expires.encode(), url.encode(), body])


def sign(app_id: str, secret: str, expires: str, url: str, body: bytes) -> str:
    message = string_to_sign(app_id, expires, url, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(app_id: str, secret: str, expires: int, url: str, body: bytes) -> dict[str, str]:
    stamp = str(expires)
    return {
        "Convert-Application-ID": app_id,
        "Expires": stamp,
        "Authorization": f"{SCHEME} Signature={sign(app_id, secret, stamp, url, body)}",
    }


@dataclass(frozen=True)
class ConvertSigner:
    """UpstreamHttp's `signer` hook: called for every attempt, over the exact bytes sent."""

    app_id: str
    secret: str = field(repr=False)
    ttl_s: int = DEFAULT_TTL_S
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if not MIN_TTL_S <= self.ttl_s <= MAX_TTL_S:
            raise ValueError(f"ttl_s must be {MIN_TTL_S}..{MAX_TTL_S} seconds")

    def __call__(self, method: str, url: str, body: bytes) -> dict[str, str]:
        expires = int(self.clock()) + self.ttl_s
        return signed_headers(self.app_id, self.secret, expires, url, body)
