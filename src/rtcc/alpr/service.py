"""The plates domain's front door: what the router, the console, the CLI and workers call.

Ingest, hotlists, alerts, search and crops each have their own module; this one holds what sits between a caller
and them (scope checks, the records of who looked at what, the rows a caller shows) and calls into them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.alpr import alerts, crops, hotlists, search
from rtcc.alpr.adapters.formats import MalformedRead, parse_batch
from rtcc.alpr.models import Hotlist, HotlistEntry, PlateAlert, PlateRead
from rtcc.alpr.reads import IngestReport, ReadIn, ingest
from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.auth.models import Agency
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, NotFound, PermissionDenied
from rtcc.core.runtime import Runtime

# --- reads in -------------------------------------------------------------------------------------------------

def parse_reads(document: Any, *, format: str) -> tuple[list[ReadIn], list[dict[str, Any]]]:
    """A device's batch in one of the known formats: its reads and the items refused; InvalidInput if it is no batch."""
    try:
        return parse_batch(document, format)
    except MalformedRead as error:
        raise InvalidInput(str(error), code="invalid_reads")


def ingest_reads(session: Session, *, runtime: Runtime, hotlist_cache: hotlists.HotlistCache, format: str,
                 reads: list[ReadIn], rejected: Sequence[dict[str, Any]] = ()) -> IngestReport:
    """Store a parsed batch (resends once) and match it; every refused item, parsed or stored, in batch order."""
    source = format if format != "rtcc" else "rest"
    report = ingest(session, runtime=runtime, hotlists=hotlist_cache, source=source, reads=reads)
    return dataclasses.replace(report, rejected=sorted([*rejected, *report.rejected], key=lambda item: item["index"]))


# --- search and crops -----------------------------------------------------------------------------------------

def parse_area(text: str | None) -> list[tuple[float, float]] | None:
    """A polygon written 'lon,lat;lon,lat;...' as corners; InvalidInput when it is not."""
    if not text:
        return None
    try:
        return [(float(lon), float(lat)) for lon, lat in (corner.split(",") for corner in text.split(";"))]
    except ValueError:
        raise InvalidInput("area must be 'lon,lat;lon,lat;lon,lat'.", code="invalid_search")


def search_reads(session: Session, *, runtime: Runtime, actor: Actor, plate: str, mode: str, purpose: str,
                 case_number: str, start: datetime | None = None, end: datetime | None = None,
                 camera_ids: list[int] | None = None, area: list[tuple[float, float]] | None = None,
                 limit: int = 100, before_id: int | None = None, purpose_category: str | None = None) -> list[PlateRead]:
    """Reads of a plate in the actor's scope, newest first; refused without purpose, case number and purpose
    category; audited."""
    query = search.PlateQuery(plate=plate, mode=mode, start=start, end=end, camera_ids=camera_ids, area=area)
    return search.search_reads(session, runtime=runtime, actor=actor, query=query, purpose=purpose,
                               case_number=case_number, limit=limit, before_id=before_id,
                               purpose_category=purpose_category)


def crop_of_read(session: Session, *, runtime: Runtime, actor: Actor, read_id: int, purpose: str | None = None,
                 case_number: str | None = None, purpose_category: str | None = None) -> Path:
    """The crop file of a read the actor may see; a refusal is put on record in this session, then raised.

    The caller commits the session before answering the refusal (it wrote nothing else), as a failed sign-in does."""
    try:
        return crops.visible_crop(session, runtime=runtime, actor=actor, read_id=read_id, purpose=purpose,
                                  case_number=case_number, purpose_category=purpose_category)
    except crops.CropRefused as refusal:
        crops.record_refusal(session, runtime=runtime, actor=actor, read_id=read_id, refusal=refusal, purpose=purpose,
                             case_number=case_number)
        raise


# --- refusals by id -------------------------------------------------------------------------------------------

@contextmanager
def refusal_on_record(runtime: Runtime, *, actor: Actor, action: str, object_type: str, object_id: int) -> Iterator[None]:
    """An id outside the caller's scope answers 404; the attempt is still on record (its own transaction)."""
    try:
        yield
    except NotFound as refusal:
        with runtime.database.session() as session:
            audit.record(session, keys=runtime.keys, actor=actor, action=action, outcome="denied",
                         object_type=object_type, object_id=object_id, details={"code": refusal.code})
        raise


# --- hotlists -------------------------------------------------------------------------------------------------

def create_hotlist(session: Session, *, runtime: Runtime, actor: Actor, name: str, source: str, priority: int,
                   agency_ori: str | None, description: str = "") -> Hotlist:
    """A new, empty hotlist of the actor's agency (one who sees every agency's hotlists may name another)."""
    if agency_ori and not scope.sees_agency(actor, agency_ori, kind=scope.HOTLISTS):
        raise PermissionDenied("You may create hotlists only for your own agency.", code="hotlist_other_agency")
    return hotlists.create_hotlist(session, runtime=runtime, actor=actor, name=name, source=source, priority=priority,
                                   agency_ori=agency_ori, description=description)


def list_hotlists(session: Session, *, actor: Actor) -> list[tuple[Hotlist, int]]:
    """The hotlists in the actor's scope, by priority and name, each with its count of active entries."""
    counts = dict(session.execute(select(HotlistEntry.hotlist_id, func.count()).where(HotlistEntry.removed_at.is_(None))
                                  .group_by(HotlistEntry.hotlist_id)).all())
    rows = session.execute(select(Hotlist, Agency.ori).join(Agency, Agency.id == Hotlist.agency_id)
                           .order_by(Hotlist.priority, Hotlist.name)).all()
    return [(hotlist, counts.get(hotlist.id, 0)) for hotlist, ori in rows
            if scope.sees_agency(actor, ori, kind=scope.HOTLISTS)]


def _own_hotlist(session: Session, *, actor: Actor, hotlist_id: int) -> Hotlist:
    """A hotlist in the actor's scope; another agency's answers as a missing one does."""
    hotlist = session.get(Hotlist, hotlist_id)
    if hotlist is None or not scope.sees_agency(actor, session.get(Agency, hotlist.agency_id).ori, kind=scope.HOTLISTS):
        raise NotFound(f"No hotlist {hotlist_id}.", code="hotlist_not_found")
    return hotlist


def import_hotlist(session: Session, *, runtime: Runtime, actor: Actor, hotlist_id: int, text: str, format: str,
                   replace: bool = False) -> hotlists.HotlistImportReport:
    """Entries from a CSV or JSON extract into a hotlist in the actor's scope (replace: remove those not in it)."""
    _own_hotlist(session, actor=actor, hotlist_id=hotlist_id)
    return hotlists.import_entries(session, runtime=runtime, actor=actor, hotlist_id=hotlist_id, text=text,
                                   format=format, replace=replace)


# --- alerts ---------------------------------------------------------------------------------------------------

OPEN_ALERT_STATUSES = ("new", "acknowledged", "actionable")  # the queue a console works through, in its order

@dataclass(frozen=True)
class AlertDetail:
    """An alert with what a person needs to verify it: its hotlist, the entry it matched and the read."""

    alert: PlateAlert
    hotlist: Hotlist | None
    entry: HotlistEntry
    read: PlateRead


def _detail(session: Session, alert: PlateAlert) -> AlertDetail:
    return AlertDetail(alert=alert, hotlist=session.get(Hotlist, alert.hotlist_id),
                       entry=session.get(HotlistEntry, alert.entry_id), read=session.get(PlateRead, alert.read_id))


def list_alerts_audited(session: Session, *, runtime: Runtime, actor: Actor, statuses: Sequence[str] = (),
                        limit: int = 100, via: str | None = None) -> list[AlertDetail]:
    """The alerts in the actor's scope, newest first (per status in the order given, up to limit each); on record."""
    found = [alert for status in (statuses or [None])
             for alert in alerts.list_alerts(session, actor=actor, status=status, limit=limit)]
    # A filter the caller chose is a term of the look; the console's queue of open alerts has never named one.
    terms = {"status": statuses[0]} if len(statuses) == 1 else None
    audit.record(session, keys=runtime.keys, actor=actor, action="alert.list", object_type="plate_alert",
                 query_terms=terms, details={"count": len(found), **({"via": via} if via else {})})
    return [_detail(session, alert) for alert in found]


def acknowledge_alert(session: Session, *, runtime: Runtime, actor: Actor, alert_id: int) -> AlertDetail:
    """Take an alert in hand (it stops sounding on every console)."""
    return _detail(session, alerts.acknowledge(session, runtime=runtime, actor=actor, alert_id=alert_id))


def verify_alert(session: Session, *, runtime: Runtime, actor: Actor, alert_id: int, crop_matches_plate: bool,
                 vehicle_matches: bool, entry_still_active: bool) -> AlertDetail:
    """A person's three checks on an alert; only when all hold is it actionable."""
    return _detail(session, alerts.verify(session, runtime=runtime, actor=actor, alert_id=alert_id,
                                          crop_matches_plate=crop_matches_plate, vehicle_matches=vehicle_matches,
                                          entry_still_active=entry_still_active))


def dispose_alert(session: Session, *, runtime: Runtime, actor: Actor, alert_id: int, disposition: str,
                  note: str = "") -> AlertDetail:
    """Close an alert with what came of it."""
    return _detail(session, alerts.dispose(session, runtime=runtime, actor=actor, alert_id=alert_id,
                                           disposition=disposition, note=note))


def false_hit_rates(session: Session, *, actor: Actor) -> dict[str, dict]:
    """False-hit rates per camera and per hotlist in the actor's scope, from the dispositions."""
    return alerts.false_hit_rates(session, actor=actor)
