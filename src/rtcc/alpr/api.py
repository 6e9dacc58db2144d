"""Plates over HTTP: device ingestion, hotlists, alerts with verification, and purpose-bound search."""

import json
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from rtcc.alpr import crops, hotlists, service
from rtcc.alpr.adapters.formats import PARSERS
from rtcc.alpr.schemas import (
    AlertOut,
    DispositionRequest,
    HotlistCreate,
    HotlistImportOut,
    HotlistOut,
    IngestOut,
    ReadOut,
    VerifyRequest,
)
from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput
from rtcc.core.http import MAX_BIGINT, BoundedId, ReadId, RecordId, load_json, read_text_upload
from rtcc.core.openapi import error_responses
from rtcc.policy.engine import PolicyRefused

router = APIRouter(tags=["plates"])
IMPORT_TYPES = {"text/csv": "csv", "application/json": "json"}


def hotlist_cache(request_or_app) -> hotlists.HotlistCache:
    """One cache per app, rebuilt when the hotlists change."""
    state = getattr(request_or_app, "app", request_or_app).state
    if getattr(state, "hotlist_cache", None) is None:
        state.hotlist_cache = hotlists.HotlistCache()
    return state.hotlist_cache


@router.post("/alpr/reads", response_model=IngestOut, openapi_extra=needs("alpr.ingest"))
async def ingest_reads(request: Request, format: str = Query("rtcc", description=f"One of: {', '.join(PARSERS)}."),
                       actor: Actor = Depends(authorize)):
    """A batch of reads from a device (our schema, OpenALPR alpr_group or Frigate events); resends are stored once."""
    runtime = get_runtime(request)
    try:
        document = load_json(await request.body(), max_depth=runtime.settings.max_json_depth)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("The body is not JSON.", code="invalid_reads")
    reads, rejected = service.parse_reads(document, format=format)
    cache = hotlist_cache(request)

    def store():
        with runtime.database.session() as db:
            return service.ingest_reads(db, runtime=runtime, hotlist_cache=cache, format=format, reads=reads,
                                        rejected=rejected)

    report = await run_in_threadpool(store)
    return IngestOut(stored=report.stored, duplicates=report.duplicates, alerts=report.alerts, rejected=report.rejected)


@router.get("/alpr/reads", response_model=list[ReadOut], openapi_extra=needs("alpr.search"))
def search_reads(
    request: Request,
    plate: str = Query(min_length=1, max_length=16, description="7ABC123, or a wildcard 7AB?12* with mode=wildcard."),
    mode: str = Query("exact", description="exact, wildcard or fuzzy (one confusable character off)."),
    purpose: str = Query("", max_length=500, description="Why you search: required."),
    case_number: str = Query("", max_length=64, description="The case this search serves: required."),
    purpose_category: str | None = Query(None, max_length=16, description="Required: a code of the managed purpose "
                                         "list (GET /api/v1/policy/purposes); a prohibited one is refused by policy."),
    start: datetime | None = None, end: datetime | None = None,
    camera_id: list[BoundedId] | None = Query(None), area: str | None = Query(None, description="lon,lat;lon,lat;... polygon"),
    limit: int = Query(100, ge=1, le=1000), before_id: int | None = Query(None, ge=1, le=MAX_BIGINT),
    actor: Actor = Depends(authorize),
):
    """Reads of a plate, newest first; every search is audited with its purpose, case number and terms."""
    polygon = service.parse_area(area)
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        try:
            found = service.search_reads(db, runtime=runtime, actor=actor, plate=plate, mode=mode, purpose=purpose,
                                         case_number=case_number, start=start, end=end, camera_ids=camera_id,
                                         area=polygon, limit=limit, before_id=before_id,
                                         purpose_category=purpose_category)
        except PolicyRefused:
            db.commit()  # the refusal stays on record (nothing else was written)
            raise
        return [ReadOut.of(read) for read in found]


@router.post("/alpr/hotlists", responses=error_responses(404, 409), response_model=HotlistOut, status_code=201, openapi_extra=needs("hotlists.manage"))
def create_hotlist(body: HotlistCreate, request: Request, actor: Actor = Depends(authorize)):
    """A new, empty hotlist of the caller's agency (an admin may name another)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        created = service.create_hotlist(db, runtime=runtime, actor=actor, **body.model_dump())
        return HotlistOut(id=created.id, name=created.name, source=created.source, priority=created.priority,
                          description=created.description, created_at=created.created_at)


@router.get("/alpr/hotlists", response_model=list[HotlistOut], openapi_extra=needs("hotlists.view"))
def list_hotlists(request: Request, actor: Actor = Depends(authorize)):
    """The hotlists of the caller's agency (every agency's for an admin)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [HotlistOut(id=h.id, name=h.name, source=h.source, priority=h.priority, description=h.description,
                           created_at=h.created_at, active_entries=active)
                for h, active in service.list_hotlists(db, actor=actor)]


@router.post("/alpr/hotlists/{hotlist_id}/import", responses=error_responses(415), response_model=HotlistImportOut, openapi_extra=needs("hotlists.manage"))
async def import_hotlist(hotlist_id: RecordId, request: Request, replace: bool = Query(False, description="The file is a full extract: remove entries not in it."),
                         actor: Actor = Depends(authorize)):
    """Entries from an NCIC-style CSV (LIC, LIS, OFF, VMA, VMO, VCO, NIC, EXP columns or plain names) or JSON."""
    runtime = get_runtime(request)
    text, format = await read_text_upload(request, IMPORT_TYPES)

    def run():
        with service.refusal_on_record(runtime, actor=actor, action="hotlist.import", object_type="hotlist",
                                       object_id=hotlist_id), runtime.database.session() as db:
            return service.import_hotlist(db, runtime=runtime, actor=actor, hotlist_id=hotlist_id, text=text,
                                          format=format, replace=replace)

    report = await run_in_threadpool(run)
    return HotlistImportOut(added=report.added, updated=report.updated, rejected=len(report.errors), errors=report.errors)


def _alert_out(detail: service.AlertDetail) -> AlertOut:
    alert, entry, read = detail.alert, detail.entry, detail.read
    out = AlertOut.model_validate({name: getattr(alert, name) for name in AlertOut.model_fields if hasattr(alert, name)})
    out.hotlist = detail.hotlist.name if detail.hotlist else ""
    out.entry = {"plate": entry.plate, "state": entry.state, "reason": entry.reason, "make": entry.make, "model": entry.model,
                 "colour": entry.colour, "expires_at": clock.iso(entry.expires_at), "active": entry.removed_at is None}
    out.read = {"read_at": clock.iso(read.read_at), "camera_id": read.camera_id, "device_id": read.device_id,
                "confidence": read.confidence, "plate_raw": read.plate_raw, "crop_path": read.crop_path}
    return out


@router.get("/alpr/alerts", response_model=list[AlertOut], openapi_extra=needs("alerts.view"))
def list_alerts(request: Request, status: str | None = Query(None, description="new, acknowledged, actionable or closed"),
                limit: int = Query(100, ge=1, le=1000), actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        found = service.list_alerts_audited(db, runtime=runtime, actor=actor, statuses=[status] if status else [],
                                            limit=limit)
        return [_alert_out(detail) for detail in found]


@router.post("/alpr/alerts/{alert_id}/acknowledge", responses=error_responses(409), response_model=AlertOut, openapi_extra=needs("alerts.verify"))
def acknowledge_alert(alert_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """Take an alert in hand (it stops sounding on every console); verification comes next."""
    runtime = get_runtime(request)
    with service.refusal_on_record(runtime, actor=actor, action="alert.acknowledge", object_type="plate_alert",
                                   object_id=alert_id), runtime.database.session() as db:
        return _alert_out(service.acknowledge_alert(db, runtime=runtime, actor=actor, alert_id=alert_id))


@router.post("/alpr/alerts/{alert_id}/verify", responses=error_responses(409), response_model=AlertOut, openapi_extra=needs("alerts.verify"))
def verify_alert(alert_id: RecordId, body: VerifyRequest, request: Request, actor: Actor = Depends(authorize)):
    """A person checks crop, vehicle and entry; only then is the alert actionable."""
    runtime = get_runtime(request)
    with service.refusal_on_record(runtime, actor=actor, action="alert.verify", object_type="plate_alert",
                                   object_id=alert_id), runtime.database.session() as db:
        return _alert_out(service.verify_alert(db, runtime=runtime, actor=actor, alert_id=alert_id, **body.model_dump()))


@router.post("/alpr/alerts/{alert_id}/disposition", responses=error_responses(409), response_model=AlertOut, openapi_extra=needs("alerts.verify"))
def dispose_alert(alert_id: RecordId, body: DispositionRequest, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with service.refusal_on_record(runtime, actor=actor, action="alert.dispose", object_type="plate_alert",
                                   object_id=alert_id), runtime.database.session() as db:
        return _alert_out(service.dispose_alert(db, runtime=runtime, actor=actor, alert_id=alert_id,
                                                disposition=body.disposition, note=body.note))


@router.get("/alpr/alerts/false-hits", openapi_extra=needs("alerts.view"))
def false_hits(request: Request, actor: Actor = Depends(authorize)):
    """False-hit rates per camera and per hotlist, from the dispositions."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.false_hit_rates(db, actor=actor)


@router.get("/alpr/reads/{read_id}/crop", openapi_extra=needs("alerts.view"), responses={200: {"content": {"image/jpeg": {}}}})
def read_crop(read_id: ReadId, request: Request,
              purpose: str | None = Query(None, max_length=500, description="For a read behind no alert you see: why (alpr.search)."),
              case_number: str | None = Query(None, max_length=64, description="With purpose: the case it serves."),
              purpose_category: str | None = Query(None, max_length=16, description="With purpose: a code of the "
                                                   "managed purpose list (GET /api/v1/policy/purposes)."),
              actor: Actor = Depends(authorize)):
    """The plate crop of a read behind an alert the caller sees, or (alpr.search) of a read of a camera in their
    scope given a purpose, case number and purpose category as for a search; anything else answers 404, as for a
    missing read."""
    runtime = get_runtime(request)
    refused = None
    with runtime.database.session() as db:
        try:
            path = service.crop_of_read(db, runtime=runtime, actor=actor, read_id=read_id, purpose=purpose,
                                        case_number=case_number, purpose_category=purpose_category)
        except (crops.CropRefused, PolicyRefused) as refusal:
            refused = refusal  # commit the refusal's record (nothing else was written) before answering
    if refused:
        raise refused
    return FileResponse(path, media_type="image/jpeg")
