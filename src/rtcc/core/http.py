"""HTTP plumbing shared by every router: JSON errors in one place, body limits, security headers."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
import psycopg
from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rtcc.core.errors import JsonTooDeep, NumberOutOfRange, RTCCError

log = logging.getLogger("rtcc.http")

# Keys are INTEGER (2**31 - 1 on PostgreSQL), plate reads' BIGINT (2**63 - 1, also SQLite's INTEGER):
# past these no row can exist and the drivers raise OverflowError or DataError, so ids are bounded here.
MAX_RECORD_ID = 2**31 - 1
MAX_BIGINT = 2**63 - 1
RecordId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID, description="The record's id.")]
ReadId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="The plate read's id (BIGINT).")]
BoundedId = Annotated[int, Field(ge=1, le=MAX_RECORD_ID)]  # an id in a query list or a body

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
        return JSONResponse(error_body(error.code, error.message, **error.details), status_code=error.status_code,
                            headers=_retry_after(request) if error.status_code == 503 else None)

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
    @app.exception_handler(psycopg.OperationalError)  # raised bare by the plate-read COPY (a lock timeout, a deadlock)
    async def _database_unavailable(request: Request, error: Exception):
        log.error("database unavailable on %s %s: %s", request.method, request.url.path,
                  type(getattr(error, "orig", None) or error).__name__)
        return JSONResponse(
            error_body("database_unavailable", "The database is unavailable or busy. Try again shortly."), status_code=503,
            headers=_retry_after(request),
        )

    @app.exception_handler(DataError)
    async def _value_out_of_range(request: Request, error: DataError):
        # A value the column type cannot take (an integer past PostgreSQL's INTEGER in a body field): the
        # client's input, not a fault; the intake bounds catch most, this catches what they do not name.
        log.warning("value refused by the database on %s %s: %s", request.method, request.url.path,
                    type(error.orig).__name__)
        return JSONResponse(error_body("value_out_of_range", "A value does not fit the field it is stored in."),
                            status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception):
        reference = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", reference, request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", f"Something went wrong on the server (reference {reference})."), status_code=500
        )


# A JSON string (brackets inside it do not nest); an unterminated one runs to the end of the text.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as int8
_DEPTH_CHUNK = 1 << 22


def json_nesting_depth(raw: bytes | str) -> int:
    """How deeply a JSON text nests arrays and objects, found without parsing it (strings skipped)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    steps = np.frombuffer(_JSON_STRING.sub(b"", data).translate(_BRACKET_STEPS, _NOT_BRACKETS), dtype=np.int8)
    # Opening and closing brackets of either kind count alike: exact for valid JSON, and for broken
    # JSON an upper bound on how deep a parser would recurse before it noticed.
    peak = level = 0
    for start in range(0, len(steps), _DEPTH_CHUNK):
        running = np.cumsum(steps[start:start + _DEPTH_CHUNK], dtype=np.int64) + level
        peak, level = max(peak, int(running.max())), int(running[-1])
    return peak


def ensure_json_depth(raw: bytes | str, *, max_depth: int) -> None:
    """Refuse (422 json_too_deep) JSON nested deeper than max_depth, before any parser recurses into it."""
    depth = json_nesting_depth(raw)
    if depth > max_depth:
        raise JsonTooDeep(f"The JSON nests {depth} levels deep; at most {max_depth} are accepted.")


def _bounded_int(text: str) -> int:
    # Length first: int() of thousands of digits is slow and raises ValueError past 4300 of them.
    if len(text.lstrip("-")) > 19 or not -MAX_BIGINT - 1 <= (value := int(text)) <= MAX_BIGINT:
        raise NumberOutOfRange(f"The JSON number {text[:24]}{'...' if len(text) > 24 else ''} does not fit in 64 bits.")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not np.isfinite(value):
        raise NumberOutOfRange(f"The JSON number {text[:24]} is too large.")
    return value


def _no_constant(name: str) -> float:
    raise NumberOutOfRange(f"{name} is not a JSON number.")


def load_json(raw: bytes | str, *, max_depth: int) -> Any:
    """Parse JSON from a client or device with its nesting and numbers bounded (JsonTooDeep, NumberOutOfRange).

    Malformed JSON raises json.JSONDecodeError (or UnicodeDecodeError) as json.loads does."""
    ensure_json_depth(raw, max_depth=max_depth)
    return json.loads(raw, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    response = JSONResponse(error_body(code, message), status_code=status)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


def _is_json_request(scope: Scope) -> bool:
    # FastAPI parses a body as JSON when it has no Content-Type, or application/json or application/*+json.
    content_type = dict(scope.get("headers") or []).get(b"content-type")
    if content_type is None:
        return True
    media_type = content_type.split(b";")[0].strip().lower()
    return media_type == b"application/json" or (media_type.startswith(b"application/") and media_type.endswith(b"+json"))


class JsonBodyLimits:
    """Refuse JSON bodies nested too deep or holding numbers no column can hold (422), before a route parses them.

    Sits inside BodySizeLimit, so the body it reads whole is already bounded in size."""

    def __init__(self, app: ASGIApp, max_depth: int):
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS") or not _is_json_request(scope):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body.strip():
            try:
                load_json(body, max_depth=self.max_depth)
            except RTCCError as error:
                await _send_error(send, error.status_code, error.code, error.message)
                return
            except ValueError:  # malformed JSON (or not UTF-8): the route's own validation names the problem
                pass
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _retry_after(request: Request) -> dict[str, str]:
    # Nothing was stored: a device that resends after this (ingest is idempotent) loses nothing.
    return {"Retry-After": str(request.app.state.runtime.settings.busy_retry_after_seconds)}


@dataclass(frozen=True)
class RouteBodyLimit:
    """One route whose request bodies have a limit of their own in place of the general one (a signed PDF)."""

    method: str
    path: str  # the route's whole path template, as FastAPI serves it: /api/v1/policy/agreements/{agreement_id}/document
    max_bytes: int
    what: str  # what the body is, for the 413: "A signed agreement document"
    setting: str  # what raises the limit, for the 413: "RTCC_POLICY_DOCUMENT_MAX_BYTES"

    def refusal(self) -> str:
        return f"{self.what} may be at most {self.max_bytes} bytes ({self.setting})."


class BodySizeLimit:
    """Refuse request bodies over the limit with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_bytes: int | None = None, upload_suffix: str = "/import",
                 route_limits: Sequence[RouteBodyLimit] = ()):
        self.app = app
        self.default_max_bytes = max_bytes
        # Bulk uploads (paths ending in /import) may be larger than ordinary JSON requests.
        self.upload_bytes = upload_bytes or max_bytes
        self.upload_suffix = upload_suffix
        self.route_limits = [(limit, compile_path(limit.path)[0]) for limit in route_limits]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for route_limit, pattern in self.route_limits:
            if scope["method"] == route_limit.method and pattern.match(scope["path"]):
                await self._limited(scope, receive, send, route_limit.max_bytes, route_limit.refusal())
                return
        limit = self.upload_bytes if scope["path"].endswith(self.upload_suffix) else self.default_max_bytes
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, max_bytes: int,
                       refusal: str | None = None) -> None:
        refusal = refusal or f"Request body exceeds {max_bytes} bytes."
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > max_bytes
            except ValueError:
                await self._reject(send, 400, "bad_request", "Content-Length is not a number.")
                return
            if too_large:
                await self._reject(send, 413, "payload_too_large", refusal)
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
                await self._reject(send, 413, "payload_too_large", refusal)
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
        await _send_error(send, status, code, message)


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
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text.", code="invalid_import")
    if accepted[content_type] in ("json", "geojson"):
        ensure_json_depth(text, max_depth=request.app.state.runtime.settings.max_json_depth)
    return text, accepted[content_type]

