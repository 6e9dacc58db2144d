"""Live view over WebSocket at /api/v1/cameras/{id}/live: authorised, audited, one upstream per camera."""

from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool

from rtcc.audit import service as audit
from rtcc.auth.guard import authorize_websocket, get_runtime
from rtcc.cameras.service import get_visible_camera, stream_url_for_ingest
from rtcc.core.errors import RTCCError
from rtcc.core.http import RecordId
from rtcc.video.live.registry import LiveRelayRegistry, LiveSettings, serve_live_viewer
from rtcc.video.analytics.privacy import mask_file_for

router = APIRouter()
CLOSE_NOT_FOUND = 4404


def live_registry(settings) -> LiveRelayRegistry:
    """The process's live relays, with limits from the settings."""
    return LiveRelayRegistry(LiveSettings(
        idle_stop_seconds=settings.live_idle_stop_seconds, viewer_queue_fragments=settings.live_viewer_queue_fragments,
        fragment_ms=settings.live_fragment_ms, io_timeout_seconds=settings.stream_io_timeout_seconds,
        ffmpeg=settings.ffmpeg_path,
    ))


@router.websocket("/cameras/{camera_id}/live")
async def live_view(websocket: WebSocket, camera_id: RecordId):
    """A JSON 'init' message with the codec, then the fMP4 init segment and fragments as binary messages."""
    runtime = get_runtime(websocket)
    actor = await authorize_websocket(websocket, runtime, "video.live")
    if actor is None:
        return

    def authorise_and_audit():
        with runtime.database.session() as db:
            camera, _ = get_visible_camera(db, actor=actor, camera_id=camera_id)
            if not camera.main_stream_url or camera.kind == "private_registered":
                return None
            audit.record(db, keys=runtime.keys, actor=actor, action="video.live", object_type="camera", object_id=camera_id)
            mask = mask_file_for(camera.id, camera.privacy_masks, runtime.settings.data_dir / "masks")
            return stream_url_for_ingest(camera, runtime=runtime), mask

    try:
        source = await run_in_threadpool(authorise_and_audit)
    except RTCCError:
        source = None
    if source is None:
        await websocket.close(code=CLOSE_NOT_FOUND, reason="camera_not_found")
        return
    registry = websocket.app.state.live_relays
    await websocket.accept()
    await serve_live_viewer(websocket, registry.get_or_start(camera_id, source[0], mask_png=source[1]))
