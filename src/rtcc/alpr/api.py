"""Plates over HTTP: device ingestion, hotlists, alerts with verification, and purpose-bound search."""

import json
from contextlib import contextmanager
from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from rtcc.alpr import alerts, crops, hotlists, search
from rtcc.alpr.adapters.formats import PARSERS, MalformedRead, parse_batch
from rtcc.alpr.models import Hotlist, HotlistEntry, PlateRead
from rtcc.alpr.reads import ingest
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
from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.auth.models import Agency
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, NotFound, PermissionDenied
from rtcc.core.http import MAX_BIGINT, BoundedId, ReadId, RecordId, load_json, read_text_upload
from rtcc.core.openapi import error_responses

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
        reads, rejected = parse_batch(document, format)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("The body is not JSON.", code="invalid_reads")
    except MalformedRead as error:
        raise InvalidInput(str(error), code="invalid_reads")
    cache = hotlist_cache(request)

    def store():
        with runtime.database.session() as db:
            return ingest(db, runtime=runtime, hotlists=cache, source=format if format != "rtcc" else "rest", reads=reads)

    report = await run_in_threadpool(store)
    return IngestOut(stored=report.stored, duplicates=report.duplicates, alerts=report.alerts,
                     rejected=sorted(rejected + report.rejected, key=lambda item: item["index"]))


@router.get("/alpr/reads", response_model=list[ReadOut], openapi_extra=needs("alpr.search"))
def search_reads(
    request: Request,
    plate: str = Query(min_length=1, max_length=16, description="7ABC123, or a wildcard 7AB?12* with mode=wildcard."),
    mode: str = Query("exact", description="exact, wildcard or fuzzy (one confusable character off)."),
    purpose: str = Query("", max_length=500, description="Why you search: required."),
    case_number: str = Query("", max_length=64, description="The case this search serves: required."),
    start: datetime | None = None, end: datetime | None = None,
    camera_id: list[BoundedId] | None = Query(None), area: str | None = Query(None, description="lon,lat;lon,lat;... polygon"),
    limit: int = Query(100, ge=1, le=1000), before_id: int | None = Query(None, ge=1, le=MAX_BIGINT),
    actor: Actor = Depends(authorize),
):
    """Reads of a plate, newest first; every search is audited with its purpose, case number and terms."""
    polygon = None
    if area:
        try:
            polygon = [(float(lon), float(lat)) for lon, lat in (corner.split(",") for corner in area.split(";"))]
        except ValueError:
            raise InvalidInput("area must be 'lon,lat;lon,lat;lon,lat'.", code="invalid_search")
    query = search.PlateQuery(plate=plate, mode=mode, start=start, end=end, camera_ids=camera_id, area=polygon)
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        found = search.search_reads(db, runtime=runtime, actor=actor, query=query, purpose=purpose,
                                    case_number=case_number, limit=limit, before_id=before_id)
        return [ReadOut.of(read) for read in found]


@router.post("/alpr/hotlists", responses=error_responses(404, 409), response_model=HotlistOut, status_code=201, openapi_extra=needs("hotlists.manage"))
def create_hotlist(body: HotlistCreate, request: Request, actor: Actor = Depends(authorize)):
    """A new, empty hotlist of the caller's agency (an admin may name another)."""
    if body.agency_ori and not scope.sees_agency(actor, body.agency_ori, kind=scope.HOTLISTS):
        raise PermissionDenied("You may create hotlists only for your own agency.", code="hotlist_other_agency")
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        created = hotlists.create_hotlist(db, runtime=runtime, actor=actor, **body.model_dump())
        return HotlistOut(id=created.id, name=created.name, source=created.source, priority=created.priority,
                          description=created.description, created_at=created.created_at)


@router.get("/alpr/hotlists", response_model=list[HotlistOut], openapi_extra=needs("hotlists.view"))
def list_hotlists(request: Request, actor: Actor = Depends(authorize)):
    """The hotlists of the caller's agency (every agency's for an admin)."""
    runtime = get_runtime(request)
    from sqlalchemy import func, select

    with runtime.database.session() as db:
        counts = dict(db.execute(select(HotlistEntry.hotlist_id, func.count()).where(HotlistEntry.removed_at.is_(None))
                                 .group_by(HotlistEntry.hotlist_id)).all())
        rows = db.execute(select(Hotlist, Agency.ori).join(Agency, Agency.id == Hotlist.agency_id)
                          .order_by(Hotlist.priority, Hotlist.name)).all()
        return [HotlistOut(id=h.id, name=h.name, source=h.source, priority=h.priority, description=h.description,
                           created_at=h.created_at, active_entries=counts.get(h.id, 0))
                for h, ori in rows if scope.sees_agency(actor, ori, kind=scope.HOTLISTS)]


@contextmanager
def _refusal_audited(runtime, actor: Actor, *, action: str, object_type: str, object_id: int):
    """An id outside the caller's scope answers 404; the attempt is still on record (its own transaction)."""
    try:
        yield
    except NotFound as refusal:
        with runtime.database.session() as db:
            audit.record(db, keys=runtime.keys, actor=actor, action=action, outcome="denied", object_type=object_type,
                         object_id=object_id, details={"code": refusal.code})
        raise


def _own_hotlist(db, *, actor: Actor, hotlist_id: int) -> Hotlist:
    """A hotlist of the actor's agency; another agency's answers as a missing one does."""
    hotlist = db.get(Hotlist, hotlist_id)
    if hotlist is None or not scope.sees_agency(actor, db.get(Agency, hotlist.agency_id).ori, kind=scope.HOTLISTS):
        raise NotFound(f"No hotlist {hotlist_id}.", code="hotlist_not_found")
    return hotlist


@router.post("/alpr/hotlists/{hotlist_id}/import", responses=error_responses(415), response_model=HotlistImportOut, openapi_extra=needs("hotlists.manage"))
async def import_hotlist(hotlist_id: RecordId, request: Request, replace: bool = Query(False, description="The file is a full extract: remove entries not in it."),
                         actor: Actor = Depends(authorize)):
    """Entries from an NCIC-style CSV (LIC, LIS, OFF, VMA, VMO, VCO, NIC, EXP columns or plain names) or JSON."""
    runtime = get_runtime(request)
    text, format = await read_text_upload(request, IMPORT_TYPES)

    def run():
        with _refusal_audited(runtime, actor, action="hotlist.import", object_type="hotlist", object_id=hotlist_id), \
                runtime.database.session() as db:
            _own_hotlist(db, actor=actor, hotlist_id=hotlist_id)
            return hotlists.import_entries(db, runtime=runtime, actor=actor, hotlist_id=hotlist_id, text=text,
                                           format=format, replace=replace)

    report = await run_in_threadpool(run)
    return HotlistImportOut(added=report.added, updated=report.updated, rejected=len(report.errors), errors=report.errors)


def _alert_out(db, alert) -> AlertOut:
    entry = db.get(HotlistEntry, alert.entry_id)
    read = db.get(PlateRead, alert.read_id)
    out = AlertOut.model_validate({name: getattr(alert, name) for name in AlertOut.model_fields if hasattr(alert, name)})
    hotlist = db.get(Hotlist, alert.hotlist_id)
    out.hotlist = hotlist.name if hotlist else ""
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
        found = alerts.list_alerts(db, actor=actor, status=status, limit=limit)
        audit.record(db, keys=runtime.keys, actor=actor, action="alert.list", object_type="plate_alert",
                     query_terms={"status": status} if status else None, details={"count": len(found)})
        return [_alert_out(db, alert) for alert in found]


@router.post("/alpr/alerts/{alert_id}/acknowledge", responses=error_responses(409), response_model=AlertOut, openapi_extra=needs("alerts.verify"))
def acknowledge_alert(alert_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """Take an alert in hand (it stops sounding on every console); verification comes next."""
    runtime = get_runtime(request)
    with _refusal_audited(runtime, actor, action="alert.acknowledge", object_type="plate_alert", object_id=alert_id), \
            runtime.database.session() as db:
        return _alert_out(db, alerts.acknowledge(db, runtime=runtime, actor=actor, alert_id=alert_id))


@router.post("/alpr/alerts/{alert_id}/verify", responses=error_responses(409), response_model=AlertOut, openapi_extra=needs("alerts.verify"))
def verify_alert(alert_id: RecordId, body: VerifyRequest, request: Request, actor: Actor = Depends(authorize)):
    """A person checks crop, vehicle and entry; only then is the alert actionable."""
    runtime = get_runtime(request)
    with _refusal_audited(runtime, actor, action="alert.verify", object_type="plate_alert", object_id=alert_id), \
            runtime.database.session() as db:
        return _alert_out(db, alerts.verify(db, runtime=runtime, actor=actor, alert_id=alert_id, **body.model_dump()))


@router.post("/alpr/alerts/{alert_id}/disposition", responses=error_responses(409), response_model=AlertOut, openapi_extra=needs("alerts.verify"))
def dispose_alert(alert_id: RecordId, body: DispositionRequest, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with _refusal_audited(runtime, actor, action="alert.dispose", object_type="plate_alert", object_id=alert_id), \
            runtime.database.session() as db:
        return _alert_out(db, alerts.dispose(db, runtime=runtime, actor=actor, alert_id=alert_id,
                                             disposition=body.disposition, note=body.note))


@router.get("/alpr/alerts/false-hits", openapi_extra=needs("alerts.view"))
def false_hits(request: Request, actor: Actor = Depends(authorize)):
    """False-hit rates per camera and per hotlist, from the dispositions."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return alerts.false_hit_rates(db, actor=actor)


@router.get("/alpr/reads/{read_id}/crop", openapi_extra=needs("alerts.view"), responses={200: {"content": {"image/jpeg": {}}}})
def read_crop(read_id: ReadId, request: Request,
              purpose: str | None = Query(None, max_length=500, description="For a read behind no alert you see: why (alpr.search)."),
              case_number: str | None = Query(None, max_length=64, description="With purpose: the case it serves."),
              actor: Actor = Depends(authorize)):
    """The plate crop of a read behind an alert the caller sees, or (alpr.search) of a read of a camera in their
    scope given a purpose and case number as for a search; anything else answers 404, as for a missing read."""
    from fastapi.responses import FileResponse

    runtime = get_runtime(request)
    refused = None
    with runtime.database.session() as db:
        try:
            path = crops.visible_crop(db, runtime=runtime, actor=actor, read_id=read_id, purpose=purpose,
                                      case_number=case_number)
        except crops.CropRefused as refusal:
            refused = refusal  # nothing was written: the refusal's audit record commits with this session
            crops.record_refusal(db, runtime=runtime, actor=actor, read_id=read_id, refusal=refusal, purpose=purpose,
                                 case_number=case_number)
    if refused:
        raise refused
    return FileResponse(path, media_type="image/jpeg")
