"""Specific exception classes; each carries a stable code and HTTP status, mapped to JSON in one place."""

from __future__ import annotations


class RTCCError(Exception):
    """Base class: a failure a client may be told about, with a stable machine-readable code."""

    code = "error"
    status_code = 400

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
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
