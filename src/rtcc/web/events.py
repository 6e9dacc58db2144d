"""The live event feed: a WebSocket at /api/v1/events carrying only what each user may see."""


import asyncio
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from rtcc.audit import service as audit
from rtcc.auth import sessions, tokens
from rtcc.auth.guard import CLOSE_UNAUTHENTICATED, SESSION_COOKIE, authorize_websocket, bearer_token, get_runtime
from rtcc.auth.scope import event_visible_to
from rtcc.core.errors import RTCCError

log = logging.getLogger(__name__)
router = APIRouter()
RECHECK_SECONDS = 60


@router.websocket("/events")
async def event_feed(websocket: WebSocket):
    """Send each visible event as JSON; `?types=user.,audit.` narrows by type prefix."""
    runtime = get_runtime(websocket)
    actor = await authorize_websocket(websocket, runtime, "events.subscribe")
    if actor is None:
        return

    def audit_subscription() -> None:
        with runtime.database.session() as db:
            audit.record(db, keys=runtime.keys, actor=actor, action="events.subscribe", object_type="event_feed")

    await run_in_threadpool(audit_subscription)
    prefixes = tuple(p for p in websocket.query_params.get("types", "").split(",") if p)
    subscription = runtime.bus.subscribe()
    await websocket.accept()
    await websocket.send_json({"type": "hello", "username": actor.username, "bus": runtime.bus.name})
    receiver = asyncio.create_task(_drain_client(websocket))
    try:
        while True:
            getter = asyncio.ensure_future(subscription.get())
            done, _ = await asyncio.wait({getter, receiver}, timeout=RECHECK_SECONDS, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:  # the client went away
                getter.cancel()
                return
            if getter not in done:  # quiet for a while: is the user still signed in?
                getter.cancel()
                if not await _still_signed_in(websocket, runtime):
                    await websocket.close(code=CLOSE_UNAUTHENTICATED, reason="session_ended")
                    return
                continue
            event = getter.result()
            if prefixes and not event.type.startswith(prefixes):
                continue
            if event_visible_to(event, actor):
                await websocket.send_text(event.to_json())
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        subscription.close()
        receiver.cancel()


async def _drain_client(websocket: WebSocket) -> None:
    """Read (and ignore) client messages so a disconnect is noticed promptly."""
    try:
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return


async def _still_signed_in(websocket: WebSocket, runtime) -> bool:
    """Re-check the credential the feed was opened with (revoked tokens, ended sessions)."""

    def check() -> bool:
        raw_token = bearer_token(websocket)
        cookie = websocket.cookies.get(SESSION_COOKIE)
        with runtime.database.session() as db:
            try:
                if raw_token:
                    tokens.resolve_token(db, raw_token=raw_token)
                elif cookie:
                    sessions.resolve_session(db, runtime=runtime, raw_token=cookie, touch=False)
                return True
            except RTCCError:
                return False

    return await run_in_threadpool(check)
