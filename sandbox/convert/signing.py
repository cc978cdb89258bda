"""Convert request signing (v1 and v2): HMAC-SHA256 over app id, Expires, URL and body."""

import hashlib
import hmac
import re
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from expbridge.sandbox.app_keys import CONFIG, CREDENTIAL
from expbridge.sandbox.convert.errors import unauthorized

SCHEME = "Convert-HMAC-SHA256"
SIGNATURE_RE = re.compile(r"^Convert-HMAC-SHA256 Signature=([0-9a-f]{64})$")
EXPIRES_RE = re.compile(r"^[0-9]{1,12}$")


def string_to_sign(app_id: str, expires: str, url: str, body: bytes) -> bytes:
    return b"\n".join([app_id.encode(), expires.encode(), url.encode(), body])


def sign(secret: str, app_id: str, expires: str, url: str, body: bytes) -> str:
    message = string_to_sign(app_id, expires, url, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def requested_url(request: web.Request) -> str:
    """The absolute URL as the client asked for it: Host header, raw path and raw query."""
    return f"{request.scheme}://{request.host}{request.raw_path}"


def verify(request: web.Request, body: bytes, now: float) -> str:
    """The caller's application id when the signature holds; a 401 ConvertError otherwise."""
    config = request.config_dict[CONFIG]
    app_id = request.headers.get("Convert-Application-ID")
    expires = request.headers.get("Expires")
    authorization = request.headers.get("Authorization")
    if not app_id or not expires or not authorization:
        raise unauthorized("Missing one of Convert-Application-ID, Expires, Authorization headers")
    if app_id != config.convert_app_id:
        raise unauthorized("Unknown application id")
    if not EXPIRES_RE.match(expires):
        raise unauthorized("Expires must be a unix timestamp in seconds")
    if int(expires) < now:
        raise unauthorized("Request expired")
    if int(expires) > now + config.convert_max_expires_ahead_s:
        raise unauthorized("Expires is too far in the future")
    match = SIGNATURE_RE.match(authorization)
    if match is None:
        raise unauthorized(f"Authorization must be '{SCHEME} Signature=<lowercase hex>'")
    expected = sign(config.convert_app_secret, app_id, expires, requested_url(request), body)
    if not hmac.compare_digest(expected, match.group(1)):
        raise unauthorized("Invalid signature")
    return app_id


@web.middleware
async def signed_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[CREDENTIAL] = verify(request, await request.read(), time.time())
    return await handler(request)
