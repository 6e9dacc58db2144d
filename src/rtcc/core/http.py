"""HTTP plumbing shared by every router: JSON errors in one place, body limits, security headers."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rtcc.core.errors import RTCCError

log = logging.getLogger("rtcc.http")

_HTTP_CODES = {
    400: "bad_request",
    401: "authentication_required",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def error_body(code: str, message: str, **extra) -> dict:
    return {"code": code, "message": message, **extra}


def _field_name(location: tuple) -> str:
    # ("body", "username") -> "username"; ("query", "limit") -> "limit"
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or ".".join(str(part) for part in location)


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as JSON {code, message}; stack traces stay in the server log."""

    @app.exception_handler(RTCCError)
    async def _rtcc_error(request: Request, error: RTCCError):
        return JSONResponse(error_body(error.code, error.message, **error.details), status_code=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError):
        problems = [
            {"field": _field_name(tuple(item.get("loc", ()))), "location": str(item.get("loc", ("",))[0]),
             "message": item.get("msg", "invalid")}
            for item in error.errors()
        ]
        first = problems[0] if problems else {"field": "", "message": "invalid input"}
        message = f"Invalid '{first['field']}': {first['message']}" if first["field"] else first["message"]
        return JSONResponse(error_body("validation_error", message, errors=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException):
        code = _HTTP_CODES.get(error.status_code, "error")
        message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
        return JSONResponse(error_body(code, message), status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(OperationalError)
    async def _database_unavailable(request: Request, error: OperationalError):
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, type(error.orig).__name__)
        return JSONResponse(
            error_body("database_unavailable", "The database is unavailable or busy. Try again shortly."), status_code=503
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception):
        reference = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", reference, request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", f"Something went wrong on the server (reference {reference})."), status_code=500
        )


class BodySizeLimit:
    """Refuse request bodies over the limit with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int | None = None, upload_suffix: str = "/import"):
        self.app = app
        self.default_max_bytes = max_bytes
        # Bulk uploads (paths ending in /import) may be larger than ordinary JSON requests.
        self.upload_bytes = upload_bytes or max_bytes
        self.upload_suffix = upload_suffix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if scope["path"].endswith(self.upload_suffix) else self.default_max_bytes
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > max_bytes
            except ValueError:
                await self._reject(send, 400, "bad_request", "Content-Length is not a number.")
                return
            if too_large:
                await self._reject(send, 413, "payload_too_large", f"Request body exceeds {max_bytes} bytes.")
                return
            await self.app(scope, receive, send)
            return
        # Chunked upload: read it here, up to the limit, then replay it to the app.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > max_bytes:
                await self._reject(send, 413, "payload_too_large", f"Request body exceeds {max_bytes} bytes.")
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _reject(send: Send, status: int, code: str, message: str) -> None:
        response = JSONResponse(error_body(code, message), status_code=status)
        await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


class SecurityHeaders:
    """Headers every response carries: no sniffing, no framing, no referrer leaks, a strict CSP."""

    HEADERS = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy",
         b"default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; script-src 'self'; "
         b"connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
        (b"cache-control", b"no-store"),
    ]

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {name for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in self.HEADERS if name not in existing
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


async def read_text_upload(request, accepted: dict[str, str]) -> tuple[str, str]:
    """(text, format) of an uploaded file whose Content-Type is one of `accepted` (type -> format)."""
    from rtcc.core.errors import InvalidInput

    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in accepted:
        raise InvalidInput(f"Send {' or '.join(accepted)}.", code="unsupported_media_type", status_code=415)
    try:
        return (await request.body()).decode("utf-8-sig"), accepted[content_type]
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text.", code="invalid_import")
