"""Camera registry over HTTP, limited to each caller's agency and camera groups."""

import json

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from rtcc.audit import service as audit
from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.cameras import health, importer, service
from rtcc.cameras.adapters import onvif
from rtcc.cameras.locator import CameraLocator
from rtcc.cameras.models import CAMERA_KINDS
from rtcc.cameras.schemas import (
    CameraCreate,
    CameraHealthOut,
    CameraHealthReport,
    CameraHitOut,
    CameraMapOut,
    CameraOut,
    CameraPatch,
    ImportReportOut,
    OnvifDiscoverIn,
    OnvifDiscoveryOut,
    OnvifStreamOut,
)
from rtcc.cameras.stream_urls import StreamSourcePolicy
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, RTCCError
from rtcc.core.http import RecordId, read_text_upload
from rtcc.core.openapi import error_responses

router = APIRouter(tags=["cameras"])
IMPORT_TYPES = {"text/csv": "csv", "application/geo+json": "geojson", "application/json": "geojson"}


def _credentials(body) -> dict[str, str] | None:
    if body.stream_username is None and body.stream_password is None:
        return None
    return {"username": body.stream_username or "", "password": body.stream_password or ""}


@router.get("/cameras", response_model=list[CameraOut], openapi_extra=needs("cameras.view"))
def list_cameras(request: Request, kind: str | None = None, actor: Actor = Depends(authorize)):
    """Cameras the caller may see, optionally of one kind."""
    if kind and kind not in CAMERA_KINDS:
        raise InvalidInput(f"Unknown camera kind {kind!r}; kinds are {', '.join(CAMERA_KINDS)}.", code="invalid_camera_kind")
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        rows = service.visible_cameras(db, actor=actor, kind=kind)
        audit.record(db, keys=runtime.keys, actor=actor, action="camera.list", object_type="camera",
                     query_terms={"kind": kind} if kind else None, details={"count": len(rows)})
        return [CameraOut.of(camera, ori) for camera, ori in rows]


@router.get("/cameras/health", response_model=CameraHealthReport, openapi_extra=needs("cameras.view"))
def cameras_health(request: Request, actor: Actor = Depends(authorize)):
    """Every streaming camera in scope: status, why, uptime over 24 h / 7 d / 30 d, recording lag; and how many work now."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        rows = service.visible_cameras(db, actor=actor)
        board = health.health_board(db, cameras=[camera for camera, _ in rows],
                                    recording_enabled=runtime.settings.recording_enabled,
                                    segment_seconds=runtime.settings.segment_seconds)
        audit.record(db, keys=runtime.keys, actor=actor, action="camera.health", object_type="camera",
                     details={"count": len(board)})
    working = sum(line.status in health.WORKING_STATES for line in board)
    return CameraHealthReport(
        cameras_streaming=len(board), cameras_working=working,
        working_percent=round(100 * working / len(board), 1) if board else 0.0,
        cameras=[CameraHealthOut(camera_id=line.camera.id, name=line.camera.name, status=line.status,
                                 status_detail=line.status_detail, status_changed_at=line.camera.status_changed_at,
                                 uptime_percent=line.uptime_percent, recording_lag_seconds=line.recording_lag_seconds)
                 for line in board],
    )


@router.post("/cameras", responses=error_responses(404, 409), response_model=CameraOut, status_code=201, openapi_extra=needs("cameras.manage"))
def create_camera(body: CameraCreate, request: Request, actor: Actor = Depends(authorize)):
    """Register a camera; credentials in the URL or given apart are stored encrypted."""
    runtime = get_runtime(request)
    values = body.model_dump(exclude={"agency_ori", "stream_username", "stream_password"}, exclude_none=True)
    with runtime.database.session() as db:
        camera = service.create_camera(db, runtime=runtime, actor=actor, agency_ori=body.agency_ori, values=values,
                                       credentials=_credentials(body))
        return CameraOut.of(camera, body.agency_ori or actor.agency_ori)


@router.post("/cameras/discover", responses=error_responses(502), response_model=OnvifDiscoveryOut, openapi_extra=needs("cameras.manage"))
async def discover_camera_streams(body: OnvifDiscoverIn, request: Request, actor: Actor = Depends(authorize)):
    """Ask an ONVIF device for its stream URIs; the credentials are used once, never stored or logged."""
    runtime = get_runtime(request)
    policy = StreamSourcePolicy.of(runtime.settings)

    async def address_check(host: str, port: int, field: str = "host") -> None:
        # Resolving a name blocks: off the event loop.
        await run_in_threadpool(lambda: policy.check_address(host, port, field=field))

    streams, failure = [], None
    try:
        await address_check(body.host, body.port)  # the device's own address, before anything is sent to it
        streams = await onvif.discover_streams(body.host, body.port, body.username, body.password,
                                               timeout_s=runtime.settings.onvif_timeout_seconds,
                                               address_check=address_check)
    except RTCCError as error:
        failure = error.code
        raise
    finally:
        def audit_discovery():
            with runtime.database.session() as db:
                audit.record(db, keys=runtime.keys, actor=actor, action="camera.discover",
                             outcome="failure" if failure else "success", object_type="device",
                             object_id=f"{body.host}:{body.port}", details={"streams": len(streams), "error": failure})

        await run_in_threadpool(audit_discovery)
    main, sub = onvif.pick_main_and_sub(streams)
    return OnvifDiscoveryOut(streams=[OnvifStreamOut(**{name: getattr(stream, name) for name in OnvifStreamOut.model_fields})
                                      for stream in streams], main_stream_url=main, sub_stream_url=sub)


@router.post("/cameras/import", responses=error_responses(404, 415), response_model=ImportReportOut, openapi_extra=needs("cameras.manage"))
async def import_cameras(request: Request, agency_ori: str | None = Query(None, min_length=9, max_length=9),
                         actor: Actor = Depends(authorize)):
    """Bulk import (body: text/csv or GeoJSON); cameras with a known external_id are updated."""
    runtime = get_runtime(request)
    text, format = await read_text_upload(request, IMPORT_TYPES)

    def run():
        with runtime.database.session() as db:
            return importer.import_cameras(db, runtime=runtime, actor=actor, agency_ori=agency_ori, text=text,
                                           format=format, max_rows=runtime.settings.camera_import_max_rows)

    report = await run_in_threadpool(run)
    return ImportReportOut(created=report.created, updated=report.updated, unchanged=report.unchanged,
                           rejected=len(report.errors), errors=report.errors)


def _locate(request: Request, actor: Actor, terms: dict, find) -> list[CameraHitOut]:
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        hits = find(db)
        audit.record(db, keys=runtime.keys, actor=actor, action="camera.locate", object_type="camera",
                     query_terms=terms, details={"count": len(hits)})
        by_id = {camera.id: (camera, ori) for camera, ori in service.cameras_by_ids(db, [hit.camera_id for hit in hits])}
        return [CameraHitOut(camera=CameraOut.of(*by_id[hit.camera_id]), distance_m=round(hit.distance_m, 1),
                             sees_point=hit.sees, off_axis_deg=round(hit.off_axis_deg, 1)) for hit in hits if hit.camera_id in by_id]


@router.get("/cameras/map", response_model=CameraMapOut, openapi_extra=needs("cameras.view"))
def camera_map(request: Request, actor: Actor = Depends(authorize)):
    """Every camera in scope in a compact form for the map (rows of `fields`); no stream addresses."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        rows = service.map_rows(db, actor=actor)
        audit.record(db, keys=runtime.keys, actor=actor, action="camera.list", object_type="camera",
                     details={"count": len(rows), "via": "map"})
    # Serialised directly: validating 40,000 rows through the response model costs more than reading them.
    return Response(json.dumps({"fields": service.MAP_FIELDS, "cameras": rows}, separators=(",", ":")),
                    media_type="application/json")


@router.get("/cameras/seeing", response_model=list[CameraHitOut], openapi_extra=needs("cameras.view"))
def cameras_seeing(request: Request, latitude: float = Query(ge=-90, le=90), longitude: float = Query(ge=-180, le=180),
                   limit: int = Query(20, ge=1, le=500), actor: Actor = Depends(authorize)):
    """Cameras whose view cone contains the point, closest and most centred first."""
    locator = get_locator(request)
    return _locate(request, actor, {"latitude": latitude, "longitude": longitude, "seeing": True},
                   lambda db: locator.cameras_seeing(db, actor=actor, latitude=latitude, longitude=longitude, limit=limit))


@router.get("/cameras/near", response_model=list[CameraHitOut], openapi_extra=needs("cameras.view"))
def cameras_near(request: Request, latitude: float = Query(ge=-90, le=90), longitude: float = Query(ge=-180, le=180),
                 radius_m: float = Query(200, gt=0, le=50_000), limit: int = Query(50, ge=1, le=1000),
                 actor: Actor = Depends(authorize)):
    """Cameras within radius_m of the point, nearest first; each says whether it sees the point."""
    locator = get_locator(request)
    return _locate(request, actor, {"latitude": latitude, "longitude": longitude, "radius_m": radius_m},
                   lambda db: locator.cameras_near(db, actor=actor, latitude=latitude, longitude=longitude,
                                                   radius_m=radius_m, limit=limit))


def get_locator(request: Request) -> CameraLocator:
    """One locator per app (built lazily, refreshed when the registry changes)."""
    state = request.app.state
    if getattr(state, "camera_locator", None) is None:
        state.camera_locator = CameraLocator()
    return state.camera_locator


@router.get("/cameras/{camera_id}", response_model=CameraOut, openapi_extra=needs("cameras.view"))
def get_camera(camera_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        camera, ori = service.get_visible_camera(db, actor=actor, camera_id=camera_id)
        audit.record(db, keys=runtime.keys, actor=actor, action="camera.view", object_type="camera", object_id=camera_id)
        return CameraOut.of(camera, ori)


@router.patch("/cameras/{camera_id}", responses=error_responses(409), response_model=CameraOut, openapi_extra=needs("cameras.manage"))
def update_camera(camera_id: RecordId, body: CameraPatch, request: Request, actor: Actor = Depends(authorize)):
    """Change fields; only the fields sent are touched."""
    runtime = get_runtime(request)
    values = body.model_dump(exclude={"stream_username", "stream_password"}, exclude_unset=True)
    with runtime.database.session() as db:
        camera = service.update_camera(db, runtime=runtime, actor=actor, camera_id=camera_id, values=values,
                                       credentials=_credentials(body))
        return CameraOut.of(camera, service.get_visible_camera(db, actor=actor, camera_id=camera_id)[1])


@router.delete("/cameras/{camera_id}", status_code=204, openapi_extra=needs("cameras.manage"))
def delete_camera(camera_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        service.delete_camera(db, runtime=runtime, actor=actor, camera_id=camera_id)
