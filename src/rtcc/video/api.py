"""Recorded video over HTTP: what was recorded, playback, stills and evidence exports — all audited."""

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.core.actor import Actor
from rtcc.core.http import RecordId
from rtcc.core.openapi import error_responses
from rtcc.policy.engine import PolicyRefused
from rtcc.video import service
from rtcc.video.schemas import BagReportOut, ExportOut, ExportRequest, MarkOut, MarkRequest, RecordingsOut, SpanOut

router = APIRouter(tags=["video"])


@router.get("/cameras/{camera_id}/recordings", response_model=RecordingsOut, openapi_extra=needs("video.playback"))
def recordings(camera_id: RecordId, request: Request, start: datetime, end: datetime, actor: Actor = Depends(authorize)):
    """Recorded spans and gaps of a camera between start and end."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        summary = service.recordings(db, runtime=runtime, actor=actor, camera_id=camera_id, start=start, end=end)
    return RecordingsOut(
        camera_id=camera_id, start=start, end=end, segments=summary.segments, bytes=summary.bytes,
        spans=[SpanOut(start=s.start, end=s.end) for s in summary.spans],
        gaps=[SpanOut(start=g.start, end=g.end) for g in summary.gaps],
    )


@router.get("/cameras/{camera_id}/playback", openapi_extra=needs("video.playback"),
            responses={200: {"content": {"video/mp4": {}}}})
def play(camera_id: RecordId, request: Request, start: datetime, end: datetime,
         purpose: str | None = Query(None, max_length=500), actor: Actor = Depends(authorize)):
    """The recording between start and end as fragmented MP4 (a browser <video> plays it)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        segments = service.playback_segments(db, runtime=runtime, actor=actor, camera_id=camera_id, start=start,
                                             end=end, purpose=purpose)
    return StreamingResponse(service.clip_stream(runtime=runtime, segments=segments, start=start, end=end),
                             media_type="video/mp4")


@router.get("/cameras/{camera_id}/snapshot", openapi_extra=needs("video.playback"),
            responses={200: {"content": {"image/jpeg": {}}}})
def snapshot(camera_id: RecordId, request: Request, at: datetime, actor: Actor = Depends(authorize)):
    """A JPEG of what the camera recorded at an instant."""
    image = service.snapshot(runtime=get_runtime(request), actor=actor, camera_id=camera_id, at=at)
    return Response(image, media_type="image/jpeg")


@router.post("/cameras/{camera_id}/exports", responses=error_responses(409), response_model=ExportOut, status_code=201, openapi_extra=needs("video.export"))
def export_clip(camera_id: RecordId, body: ExportRequest, request: Request, actor: Actor = Depends(authorize)):
    """Export a clip for a case as an evidence bag; needs a case number and a purpose."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        try:
            created = service.create_export(db, runtime=runtime, actor=actor, camera_id=camera_id, start=body.start,
                                            end=body.end, case_number=body.case_number, purpose=body.purpose,
                                            purpose_category=body.purpose_category,
                                            recipient_agency=body.recipient_agency)
        except PolicyRefused:
            db.commit()  # the refusal stays on record (nothing else was written)
            raise
        return ExportOut.of(created)


@router.get("/exports", response_model=list[ExportOut], openapi_extra=needs("video.export"))
def list_exports(request: Request, case_number: str | None = Query(None, max_length=64), actor: Actor = Depends(authorize)):
    """Evidence exports of cameras in the caller's scope, newest first."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [ExportOut.of(export)
                for export in service.list_exports(db, runtime=runtime, actor=actor, case_number=case_number)]


@router.get("/exports/{export_id}/verify", response_model=BagReportOut, openapi_extra=needs("video.export"))
def verify_export(export_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """Re-check an export's bag: every hash, the tag manifest, the custody chain and the recorded fingerprint."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        report = service.verify_export(db, runtime=runtime, actor=actor, export_id=export_id)
    return BagReportOut(ok=report.ok, problems=report.problems, files_checked=report.files_checked,
                        bytes_checked=report.bytes_checked)


@router.post("/cameras/{camera_id}/marks", status_code=201, response_model=MarkOut, openapi_extra=needs("video.mark"))
def mark(camera_id: RecordId, body: MarkRequest, request: Request, actor: Actor = Depends(authorize)):
    """Mark an event on a camera: event-only cameras keep the video around it."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        created = service.mark_event(db, runtime=runtime, actor=actor, camera_id=camera_id, reason=body.reason, at=body.at)
        return MarkOut(id=created.id, camera_id=created.camera_id, at=created.at, reason=created.reason, source=created.source)
