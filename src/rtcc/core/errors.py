"""Specific exception classes; each carries a stable code and HTTP status, mapped to JSON in one place."""

from __future__ import annotations


class RTCCError(Exception):
    """Base class: a failure a client may be told about, with a stable machine-readable code."""

    code = "error"
    status_code = 400

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None,
                 details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}  # extra fields of the JSON error a client can act on (tries_left)
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code


class NotFound(RTCCError):
    code = "not_found"
    status_code = 404


class Conflict(RTCCError):
    code = "conflict"
    status_code = 409


class InvalidInput(RTCCError):
    code = "invalid_input"
    status_code = 422


class JsonTooDeep(InvalidInput):
    """JSON nested deeper than max_json_depth: refused before a parser recurses into it."""

    code = "json_too_deep"


class NumberOutOfRange(InvalidInput):
    """A JSON number no column can hold: an integer beyond 64 bits, NaN or infinity."""

    code = "json_number_out_of_range"


class AuthenticationRequired(RTCCError):
    code = "authentication_required"
    status_code = 401


class AuthenticationFailed(RTCCError):
    code = "authentication_failed"
    status_code = 401


class AccountLocked(RTCCError):
    code = "account_locked"
    status_code = 423


class AccountDisabled(RTCCError):
    code = "account_disabled"
    status_code = 403


class PermissionDenied(RTCCError):
    code = "permission_denied"
    status_code = 403


class PayloadTooLarge(RTCCError):
    code = "payload_too_large"
    status_code = 413


class AuditUnavailable(RTCCError):
    """The audit record could not be written, so the action it describes did not happen."""

    code = "audit_unavailable"
    status_code = 503
