"""Convert error shape (v2, also used for v1): `{"code": int, "message": ..., "fields"?}`."""

from expbridge.sandbox.errors import ApiError


class ConvertError(ApiError):
    def __init__(
        self, status: int, message: str | list[str], fields: dict[str, str] | None = None
    ) -> None:
        payload: dict[str, object] = {"code": status, "message": message}
        if fields:
            payload["fields"] = fields
        super().__init__(status, payload)


def unauthorized(message: str) -> ConvertError:
    return ConvertError(401, message)


def not_found(what: str) -> ConvertError:
    return ConvertError(404, f"{what} not found")


def bad_request(message: str) -> ConvertError:
    return ConvertError(400, message)


def validation_failed(errors: list[tuple[str, str]]) -> ConvertError:
    messages = [f"{f}: {m}" for f, m in errors]
    return ConvertError(422, messages, {f: m for f, m in errors})


def conflict(message: str, fields: dict[str, str] | None = None) -> ConvertError:
    return ConvertError(409, message, fields)


def fault_payload(status: int) -> dict[str, object]:
    return ConvertError(status, f"Simulated upstream error {status}").payload
