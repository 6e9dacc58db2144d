"""Public-records releases over HTTP: request a clip, draw boxes, render, review, decide, hand out."""

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import FileResponse, Response

from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.core.actor import Actor
from rtcc.core.http import RecordId
from rtcc.core.openapi import error_responses
from rtcc.governance.releases import rendering, service
from rtcc.governance.releases.schemas import BoxIn, DecisionIn, ReleaseIn, ReleaseOut

router = APIRouter(tags=["public-records releases"])


@router.post("/releases", response_model=ReleaseOut, status_code=201, responses=error_responses(404),
             openapi_extra=needs("releases.request"))
def create_release(body: ReleaseIn, request: Request, actor: Actor = Depends(authorize)):
    """Record a public-records request for a clip (a camera's window, or an evidence export) and fingerprint it."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.describe(service.create_request(db, runtime=runtime, actor=actor, body=body))


@router.get("/releases", response_model=list[ReleaseOut], openapi_extra=needs("releases.request"))
def list_releases(request: Request, actor: Actor = Depends(authorize)):
    """Releases of the caller's agency, newest first."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [service.describe(found) for found in service.list_requests(db, runtime=runtime, actor=actor)]


@router.get("/releases/{release_id}", response_model=ReleaseOut, openapi_extra=needs("releases.request"))
def get_release(release_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """One release: its status, its boxes, what the last render blurred and the hashes."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.describe(service.view_request(db, runtime=runtime, actor=actor, release_id=release_id))


@router.get("/releases/{release_id}/frame", openapi_extra=needs("releases.request"),
            responses={200: {"content": {"image/jpeg": {}}}})
def release_frame(release_id: RecordId, request: Request, index: int = Query(0, ge=0, le=10_000_000),
                  actor: Actor = Depends(authorize)):
    """One frame of the source clip, unredacted, to draw a box on (frame coordinates are the image's pixels)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        image = service.frame_jpeg(db, runtime=runtime, actor=actor, release_id=release_id, index=index)
    return Response(image, media_type="image/jpeg")


@router.post("/releases/{release_id}/boxes", response_model=ReleaseOut, responses=error_responses(409),
             openapi_extra=needs("releases.request"))
def add_box(release_id: RecordId, body: BoxIn, request: Request, actor: Actor = Depends(authorize)):
    """Add a box to blur, drawn on one frame and tracked forward; the release needs rendering again."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.describe(service.add_box(db, runtime=runtime, actor=actor, release_id=release_id, body=body))


@router.post("/releases/{release_id}/render", response_model=ReleaseOut, status_code=202,
             responses=error_responses(409), openapi_extra=needs("releases.request"))
def render_release(release_id: RecordId, request: Request, background: BackgroundTasks,
                   actor: Actor = Depends(authorize)):
    """Start making the release copy (faces, plates and drawn boxes blurred); poll the release for its status."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        release = service.start_render(db, runtime=runtime, actor=actor, release_id=release_id)
        started, copy_name = service.describe(release), release.release_path
    background.add_task(rendering.render, runtime=runtime, actor=actor, release_id=release_id, copy_name=copy_name)
    return started


@router.get("/releases/{release_id}/review", openapi_extra=needs("releases.approve"), responses={
    200: {"content": {"video/mp4": {}}}, **error_responses(409)})
def review_release(release_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """The rendered copy, for the supervisor deciding on it."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        path = service.review_copy(db, runtime=runtime, actor=actor, release_id=release_id)
    return FileResponse(path, media_type="video/mp4")


@router.post("/releases/{release_id}/decision", response_model=ReleaseOut, responses=error_responses(409),
             openapi_extra=needs("releases.approve"))
def decide_release(release_id: RecordId, body: DecisionIn, request: Request, actor: Actor = Depends(authorize)):
    """Approve or reject a rendered copy (a supervisor other than its requester)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.describe(service.decide(db, runtime=runtime, actor=actor, release_id=release_id, body=body))


@router.get("/releases/{release_id}/copy", openapi_extra=needs("releases.request"), responses={
    200: {"content": {"video/mp4": {}}}, **error_responses(409)})
def download_release(release_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """The approved release copy, to hand to the requester; refused before approval."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        release, path = service.download_copy(db, runtime=runtime, actor=actor, release_id=release_id)
        filename = f"release-{release.records_request_number.replace('/', '_')}-{release.id}.mp4"
    return FileResponse(path, media_type="video/mp4", filename=filename)
