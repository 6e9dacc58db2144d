"""The one place every /api/v1 route is authorised: each route names its rule, this enforces it."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection

from rtcc.audit import service as audit
from rtcc.auth import sessions, tokens
from rtcc.auth.permissions import ANY_SESSION, PERMISSIONS, PUBLIC, SIGN_IN_MFA, SIGN_IN_PASSWORD
from rtcc.core.actor import Actor
from rtcc.core.errors import AuthenticationRequired, PermissionDenied, RTCCError
from rtcc.core.runtime import Runtime

SESSION_COOKIE = "rtcc_session"
CSRF_HEADER = "x-csrf-token"
RULE_KEY = "x-permission"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def needs(rule: str) -> dict[str, Any]:
    """Route decoration: `@router.get(..., openapi_extra=needs("users.read"))`; shows in OpenAPI too."""
    if rule not in PERMISSIONS and rule not in (PUBLIC, SIGN_IN_MFA, SIGN_IN_PASSWORD, ANY_SESSION):
        raise ValueError(f"unknown permission or rule {rule!r}")
    return {RULE_KEY: rule}


def route_rule(route: Any) -> str | None:
    """The rule a route declared, or None when it declared none (which denies every caller)."""
    if isinstance(route, APIRoute) and route.openapi_extra:
        return route.openapi_extra.get(RULE_KEY)
    return None


def set_session_cookie(response: Response, request: Request, raw_token: str) -> None:
    """HttpOnly, SameSite=Strict, Secure over TLS; lives no longer than the longest session."""
    runtime = get_runtime(request)
    response.set_cookie(
        SESSION_COOKIE, raw_token, httponly=True, samesite="strict", path="/",
        secure=runtime.settings.tls or request.url.scheme == "https",
        max_age=runtime.settings.session_max_hours * 3600,
    )


def get_runtime(connection: HTTPConnection) -> Runtime:
    return connection.app.state.runtime


def source_address(connection: HTTPConnection) -> str | None:
    return connection.client.host if connection.client else None


def bearer_token(connection: HTTPConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def resolve_caller(connection: HTTPConnection, runtime: Runtime) -> tuple[Actor, object | None]:
    """Who is calling (token, session or nobody) and their session if any; ends stale sessions."""
    address = source_address(connection)
    raw_token = bearer_token(connection)
    failure: RTCCError | None = None
    with runtime.database.session() as db:
        try:
            if raw_token:
                token = tokens.resolve_token(db, raw_token=raw_token)
                return tokens.actor_for_token(token, source_address=address), None
            cookie = connection.cookies.get(SESSION_COOKIE)
            if cookie:
                user_session = sessions.resolve_session(db, runtime=runtime, raw_token=cookie)
                return sessions.actor_for(user_session, source_address=address), user_session
        except AuthenticationRequired as error:
            failure = error  # commit the session's end and its audit record, then refuse
    if failure:
        raise failure
    return Actor(via="anonymous", source_address=address), None


def authorize(request: Request) -> Actor:
    """Router-level dependency: enforce the matched route's rule, audit refusals, return the Actor."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    runtime = get_runtime(request)
    rule = route_rule(request.scope.get("route"))
    if rule == PUBLIC:
        actor = Actor(via="anonymous", source_address=source_address(request))
        request.state.actor = actor
        return actor
    actor, user_session = resolve_caller(request, runtime)
    request.state.user_session = user_session
    if actor.via == "anonymous":
        raise AuthenticationRequired("Sign in, or send an API token, to use this.")
    if user_session is not None and request.method in UNSAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent, user_session.csrf_token):
            raise PermissionDenied("Missing or wrong X-CSRF-Token header.", code="csrf_failed")
    if not _rule_allows(rule, actor, user_session):
        _audit_denial(runtime, actor, request, rule)
        raise PermissionDenied("You do not have permission to do this.")
    request.state.actor = actor
    return actor


def _rule_allows(rule: str | None, actor: Actor, user_session) -> bool:
    stage = getattr(user_session, "stage", None)
    if rule is None:
        return False
    if rule == SIGN_IN_MFA:
        return stage == "mfa"
    if rule == SIGN_IN_PASSWORD:
        return stage in ("password_change", "active")
    if rule == ANY_SESSION:
        return user_session is not None
    if user_session is not None and stage != "active":
        return False
    return actor.can(rule)


def _audit_denial(runtime: Runtime, actor: Actor, request: Request, rule: str | None) -> None:
    with runtime.database.session() as db:
        audit.record(
            db, keys=runtime.keys, actor=actor, action="access.denied", outcome="denied",
            object_type="route", object_id=f"{request.method} {request.url.path}"[:200],
            details={"needs": rule},
        )


CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN = 4401, 4403


async def authorize_websocket(websocket, runtime: Runtime, permission: str) -> Actor | None:
    """The Actor of a WebSocket holding `permission`; otherwise the socket is closed (4401/4403) and None returned."""
    from starlette.concurrency import run_in_threadpool

    try:
        actor, _ = await run_in_threadpool(resolve_caller, websocket, runtime)
    except RTCCError as error:
        await websocket.close(code=CLOSE_UNAUTHENTICATED, reason=error.code)
        return None
    if actor.via == "anonymous":
        await websocket.close(code=CLOSE_UNAUTHENTICATED, reason="authentication_required")
        return None
    if not actor.can(permission):
        await websocket.close(code=CLOSE_FORBIDDEN, reason="permission_denied")
        return None
    return actor
