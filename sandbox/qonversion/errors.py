"""Qonversion v4 error shape: `{"error": {"type", "code", "message", "details"?}}`."""

from typing import Literal

from expbridge.sandbox.errors import ApiError

ErrorType = Literal["request", "resource", "logical", "internal"]

# [inferred] Only control_unauthorized / control_forbidden are published; the other codes
# are this sandbox's choice, kept together so they can be corrected in one place.
CODE_UNAUTHORIZED = "control_unauthorized"
CODE_INVALID_PARAMETER = "invalid_parameter"
CODE_INVALID_JSON = "invalid_json"
CODE_VALIDATION = "validation_error"
CODE_NOT_FOUND = "resource_not_found"
CODE_ROUTE_NOT_FOUND = "route_not_found"
CODE_METHOD_NOT_ALLOWED = "method_not_allowed"
CODE_ALIAS_CONFLICT = "alias_id_conflict"
CODE_BAD_TRANSITION = "invalid_status_transition"
CODE_IDEMPOTENCY_IN_USE = "idempotency_key_in_use"
CODE_IDEMPOTENCY_REUSED = "idempotency_key_reused"
CODE_INTERNAL = "internal_error"

FAULT_CODES: dict[int, tuple[ErrorType, str]] = {
    429: ("request", "rate_limit_exceeded"),
    500: ("internal", "internal_error"),
    502: ("internal", "bad_gateway"),
    503: ("internal", "service_unavailable"),
    504: ("internal", "gateway_timeout"),
}


class QonversionError(ApiError):
    def __init__(
        self,
        status: int,
        type_: ErrorType,
        code: str,
        message: str,
        details: list[tuple[str, str]] | None = None,
    ) -> None:
        error: dict[str, object] = {"type": type_, "code": code, "message": message}
        if details:
            error["details"] = [{"field": f, "message": m} for f, m in details]
        super().__init__(status, {"error": error})


def unauthorized(message: str) -> QonversionError:
    return QonversionError(401, "request", CODE_UNAUTHORIZED, message)


def invalid_parameter(details: list[tuple[str, str]]) -> QonversionError:
    return QonversionError(400, "request", CODE_INVALID_PARAMETER, "Invalid parameters", details)


def invalid_json(message: str) -> QonversionError:
    return QonversionError(400, "request", CODE_INVALID_JSON, message)


def validation_failed(details: list[tuple[str, str]]) -> QonversionError:
    return QonversionError(422, "request", CODE_VALIDATION, "Validation failed", details)


def not_found(what: str) -> QonversionError:
    return QonversionError(404, "resource", CODE_NOT_FOUND, f"{what} not found")


def fault_payload(status: int) -> dict[str, object]:
    type_, code = FAULT_CODES.get(
        status, ("internal", CODE_INTERNAL) if status >= 500 else ("request", "request_failed")
    )
    return QonversionError(status, type_, code, f"Simulated upstream error {status}").payload
