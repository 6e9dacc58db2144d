"""The field officer's side of a share: /field/<token>, a phone-sized page behind the link's token.

No console session is involved. The first visit asks the named officer for their username and a
current authenticator code; that binds the link to this browser with an HttpOnly, SameSite=Strict
cookie (only its hash is stored). Later visits from that browser show the item until the link expires
or is revoked; any other browser is told the link has already been used.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from datetime import datetime, timezone

from fastapi import APIRouter, Form, Request, WebSocket
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from rtcc.auth.guard import get_runtime, source_address
from rtcc.core import clock
from rtcc.sharing import links
from rtcc.sharing.links import LinkOutcome
from rtcc.web.pages import render

router = APIRouter(include_in_schema=False)
DEVICE_COOKIE = "rtcc_field_device"
CSRF_COOKIE = "rtcc_field_csrf"
LIVE_CHECK_SECONDS = 2.0  # how often a live stream re-checks that its link still stands
CLOSE_REFUSED, CLOSE_ENDED = 4403, 4410


def _path(token: str) -> str:
    return f"/field/{token}"


def _secure(request: Request) -> bool:
    return get_runtime(request).settings.tls or request.url.scheme == "https"


def _when(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _refused(request: Request, outcome: LinkOutcome) -> HTMLResponse:
    return render(request, "field_refused.html", status_code=outcome.status_code, reason=outcome.refusal,
                  message=outcome.message)


def _verify_form(request: Request, token: str, *, error: str | None = None, status_code: int = 200,
                 username: str = "") -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    response = render(request, "field_verify.html", status_code=status_code, action=f"{_path(token)}/verify",
                      csrf_token=csrf, error=error, username=username)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path=_path(token), secure=_secure(request))
    return response


@router.get("/field/{token}")
def field_page(token: str, request: Request):
    """The shared item for its bound browser, the verification form on first use, or why not."""
    runtime = get_runtime(request)
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie and request.headers.get("sec-fetch-site") == "cross-site":
        with runtime.database.read_session() as db:
            if links.needs_same_site_reload(db, raw_token=token):
                return render(request, "field_continue.html", href=_path(token))
    with runtime.database.session() as db:
        outcome = links.open_bound_page(db, runtime=runtime, raw_token=token, device_cookie=cookie,
                                          source_address=source_address(request))
        if outcome.refusal:
            return _refused(request, outcome)
        if not outcome.verified:
            return _verify_form(request, token)
        share = outcome.share
        return render(request, "field_share.html", share=share, when=_when, media_url=f"{_path(token)}/media",
                      live_path=f"{_path(token)}/live")


@router.post("/field/{token}/verify")
def field_verify(token: str, request: Request, username: str = Form(""), code: str = Form(""),
                 csrf_token: str = Form("")):
    """The named officer's username and a current authenticator code: the link becomes theirs, here."""
    runtime = get_runtime(request)
    if not secrets.compare_digest(csrf_token, request.cookies.get(CSRF_COOKIE, "")):
        return _verify_form(request, token, error="The form expired. Try again.", status_code=400, username=username)
    with runtime.database.session() as db:
        outcome = links.verify_and_redeem(db, runtime=runtime, raw_token=token, username=username, code=code,
                                            source_address=source_address(request))
        expires_at = outcome.share.expires_at if outcome.share else None
    # The session has committed: refusals, the failure counter and the audit records are kept.
    if outcome.refusal in ("wrong_code", "wrong_person"):
        return _verify_form(request, token, error=outcome.message, status_code=outcome.status_code, username=username)
    if outcome.refusal:
        return _refused(request, outcome)
    response = RedirectResponse(_path(token), status_code=303)
    max_age = max(int((expires_at - clock.utcnow()).total_seconds()), 1)
    response.set_cookie(DEVICE_COOKIE, outcome.device_token, httponly=True, samesite="strict", path=_path(token),
                        secure=_secure(request), max_age=max_age)
    response.delete_cookie(CSRF_COOKIE, path=_path(token))
    return response


@router.get("/field/{token}/media")
def field_media(token: str, request: Request):
    """The frozen JPEG or MP4 of a snapshot or clip share, for its bound browser only."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        found = links.media_for(db, runtime=runtime, raw_token=token, device_cookie=request.cookies.get(DEVICE_COOKIE),
                                  source_address=source_address(request))
    if isinstance(found, LinkOutcome):
        return PlainTextResponse(found.message, status_code=found.status_code)
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={"cache-control": "private, no-store"})


@router.websocket("/field/{token}/live")
async def field_live(websocket: WebSocket, token: str):
    """A live share's camera, as the console's live view streams it, until the link expires or is revoked."""
    from rtcc.video.live.registry import serve_live_viewer

    runtime = get_runtime(websocket)
    address = websocket.client.host if websocket.client else None

    def authorise():
        with runtime.database.session() as db:
            return links.live_source_for(db, runtime=runtime, raw_token=token,
                                           device_cookie=websocket.cookies.get(DEVICE_COOKIE), source_address=address)

    found = await run_in_threadpool(authorise)
    if isinstance(found, LinkOutcome):
        code = CLOSE_ENDED if found.status_code == 410 else CLOSE_REFUSED
        await websocket.close(code=code, reason=found.refusal)
        return

    def still_valid() -> str | None:
        with runtime.database.read_session() as db:
            return links.live_still_valid(db, share_id=found.share_id)

    await websocket.accept()
    relay = websocket.app.state.live_relays.get_or_start(found.camera_id, found.url, mask_png=found.mask_png)
    viewer = asyncio.create_task(serve_live_viewer(websocket, relay))
    ended = None
    try:
        while not viewer.done():
            await asyncio.wait({viewer}, timeout=LIVE_CHECK_SECONDS)
            if viewer.done():
                break
            ended = await run_in_threadpool(still_valid)
            if ended:
                break
    finally:
        if not viewer.done():
            viewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await viewer
    if ended:
        with contextlib.suppress(Exception):
            await websocket.send_text(json.dumps({"type": "status", "state": ended, "detail": f"the link was {ended}"
                                                  if ended == "revoked" else "the link has expired"}))
            await websocket.close(code=CLOSE_ENDED, reason=ended)
