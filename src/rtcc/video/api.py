"""Recorded video over HTTP: what was recorded, playback, stills and evidence exports — all audited."""

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.cameras.service import cameras_by_ids, get_visible_camera
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, NotFound
from rtcc.core.http import RecordId
from rtcc.core.openapi import error_responses
from rtcc.video import export as exports
from rtcc.video import marks, playback
from rtcc.video.bag_verify import verify_bag
from rtcc.video.schemas import BagReportOut, ExportOut, MarkOut, MarkRequest, ExportRequest, RecordingsOut, SpanOut
from rtcc.video.supervisor import media_store

router = APIRouter(tags=["video"])


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"Give '{name}' with a time zone, e.g. 2026-11-21T20:00:00Z.", code="validation_error")
    return value


@router.get("/cameras/{camera_id}/recordings", response_model=RecordingsOut, openapi_extra=needs("video.playback"))
def recordings(camera_id: RecordId, request: Request, start: datetime, end: datetime, actor: Actor = Depends(authorize)):
    """Recorded spans and gaps of a camera between start and end."""
    start, end = _aware("start", start), _aware("end", end)
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        get_visible_camera(db, actor=actor, camera_id=camera_id)
        segments = playback.segments_between(db, camera_id=camera_id, start=start, end=end)
        audit.record(db, keys=runtime.keys, actor=actor, action="video.recordings", object_type="camera", object_id=camera_id,
                     query_terms={"start": clock.iso(start), "end": clock.iso(end)})
    spans = playback.recorded_spans(segments)
    return RecordingsOut(
        camera_id=camera_id, start=start, end=end, segments=len(segments), bytes=sum(s.bytes for s in segments),
        spans=[SpanOut(start=s.start, end=s.end) for s in spans],
        gaps=[SpanOut(start=g.start, end=g.end) for g in playback.gaps_between(spans, start, end)],
    )


@router.get("/cameras/{camera_id}/playback", openapi_extra=needs("video.playback"),
            responses={200: {"content": {"video/mp4": {}}}})
def play(camera_id: RecordId, request: Request, start: datetime, end: datetime,
         purpose: str | None = Query(None, max_length=500), actor: Actor = Depends(authorize)):
    """The recording between start and end as fragmented MP4 (a browser <video> plays it)."""
    start, end = _aware("start", start), _aware("end", end)
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        get_visible_camera(db, actor=actor, camera_id=camera_id)
        segments = playback.segments_between(db, camera_id=camera_id, start=start, end=end)
        if not segments:
            raise NotFound("Nothing was recorded in that time range.", code="no_recording")
        audit.record(db, keys=runtime.keys, actor=actor, action="video.playback", object_type="camera", object_id=camera_id,
                     purpose=purpose, query_terms={"start": clock.iso(start), "end": clock.iso(end)})
    return StreamingResponse(playback.stream_clip(media_store(runtime), segments, start, end, ffmpeg=runtime.settings.ffmpeg_path),
                             media_type="video/mp4")


@router.get("/cameras/{camera_id}/snapshot", openapi_extra=needs("video.playback"),
            responses={200: {"content": {"image/jpeg": {}}}})
def snapshot(camera_id: RecordId, request: Request, at: datetime, actor: Actor = Depends(authorize)):
    """A JPEG of what the camera recorded at an instant."""
    at = _aware("at", at)
    runtime = get_runtime(request)
    with runtime.database.read_session() as db:
        get_visible_camera(db, actor=actor, camera_id=camera_id)
        segments = playback.segments_between(db, camera_id=camera_id, start=at - playback.SPAN_TOLERANCE,
                                             end=at + playback.SPAN_TOLERANCE)
        db.expunge_all()  # keep the rows' loaded values past the read session's rollback
    # Decoding takes a few hundred ms: outside any write transaction, so a video wall of stills
    # never holds the SQLite write lock (the audit record follows in its own short transaction).
    image = playback.snapshot_jpeg(media_store(runtime), segments, at, ffmpeg=runtime.settings.ffmpeg_path)
    with runtime.database.session() as db:
        audit.record(db, keys=runtime.keys, actor=actor, action="video.snapshot", object_type="camera", object_id=camera_id,
                     query_terms={"at": clock.iso(at)})
    return Response(image, media_type="image/jpeg")


@router.post("/cameras/{camera_id}/exports", responses=error_responses(409), response_model=ExportOut, status_code=201, openapi_extra=needs("video.export"))
def export_clip(camera_id: RecordId, body: ExportRequest, request: Request, actor: Actor = Depends(authorize)):
    """Export a clip for a case as an evidence bag; needs a case number and a purpose."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        created = exports.create_export(db, runtime=runtime, actor=actor, camera_id=camera_id, start=body.start,
                                        end=body.end, case_number=body.case_number, purpose=body.purpose)
        return ExportOut.of(created)


def _visible_exports(db, actor: Actor, found: list) -> list:
    """Exports of cameras in the actor's scope; one of a camera since removed only to its requester (or to whoever
    sees every agency's cameras)."""
    camera_scopes = {camera.id: (ori, camera.groups or [])
                     for camera, ori in cameras_by_ids(db, list({e.camera_id for e in found}))}

    def visible(export) -> bool:
        if export.camera_id in camera_scopes:
            agency_ori, groups = camera_scopes[export.camera_id]
            return scope.sees_camera(actor, agency_ori=agency_ori, groups=groups)
        return scope.sees_every_agency(actor, kind=scope.CAMERAS) or export.requested_by == actor.username

    return [export for export in found if visible(export)]


@router.get("/exports", response_model=list[ExportOut], openapi_extra=needs("video.export"))
def list_exports(request: Request, case_number: str | None = Query(None, max_length=64), actor: Actor = Depends(authorize)):
    """Evidence exports of cameras in the caller's scope, newest first."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        found = _visible_exports(db, actor, exports.list_exports(db, case_number=case_number))
        audit.record(db, keys=runtime.keys, actor=actor, action="video.export_list", object_type="export",
                     query_terms={"case_number": case_number} if case_number else None, details={"count": len(found)})
        return [ExportOut.of(export) for export in found]


@router.get("/exports/{export_id}/verify", response_model=BagReportOut, openapi_extra=needs("video.export"))
def verify_export(export_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """Re-check an export's bag: every hash, the tag manifest, the custody chain and the recorded fingerprint."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        found = exports.get_export(db, export_id=export_id)
        if not _visible_exports(db, actor, [found]):  # another agency's export answers as a missing one does
            raise NotFound(f"No export {export_id}.", code="export_not_found")
        report = verify_bag(exports.exports_root(runtime) / found.path)
        problems = list(report.problems)
        if report.fingerprint and report.fingerprint != found.fingerprint:
            problems.append("tagmanifest-sha256.txt: differs from the fingerprint recorded at export")
        audit.record(db, keys=runtime.keys, actor=actor, action="video.export_verify", object_type="export",
                     object_id=export_id, case_number=found.case_number, outcome="success" if not problems else "failure",
                     details={"problems": problems[:20]})
    return BagReportOut(ok=not problems, problems=problems, files_checked=report.files_checked,
                        bytes_checked=report.bytes_checked)


@router.post("/cameras/{camera_id}/marks", status_code=201, response_model=MarkOut, openapi_extra=needs("video.mark"))
def mark(camera_id: RecordId, body: MarkRequest, request: Request, actor: Actor = Depends(authorize)):
    """Mark an event on a camera: event-only cameras keep the video around it."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        created = marks.mark_event(db, runtime=runtime, actor=actor, camera_id=camera_id, reason=body.reason, at=body.at)
        return MarkOut(id=created.id, camera_id=created.camera_id, at=created.at, reason=created.reason, source=created.source)
