"""Incidents: opened from calls for service, worked through notes, closed with their call."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.auth.models import Agency
from rtcc.auth.service import get_agency
from rtcc.cameras import service as cameras
from rtcc.cameras.locator import CameraLocator
from rtcc.core import clock
from rtcc.core.actor import SYSTEM, Actor
from rtcc.core.errors import InvalidInput, NotFound
from rtcc.core.events import emit
from rtcc.core.runtime import Runtime
from rtcc.incidents.events import IncidentEvent, IncidentOpened, IncidentUpdated
from rtcc.incidents.models import Incident, IncidentCamera, IncidentTimelineEntry
from rtcc.incidents.schemas import (
    DockedCameraOut,
    FootageRequestCandidateOut,
    IncidentDetailOut,
    TimelineEntryOut,
)
from rtcc.incidents.selection import select_cameras

OPEN_INCIDENTS_LIMIT = 500


def agency_ori_of(session: Session, agency_id: int | None) -> str | None:
    agency = session.get(Agency, agency_id) if agency_id is not None else None
    return agency.ori if agency else None


def actor_agency_id(session: Session, actor: Actor) -> int | None:
    """The id of the agency a call or incident from this actor belongs to (None: no agency)."""
    return get_agency(session, ori=actor.agency_ori).id if actor.agency_ori else None


def add_timeline_entry(session: Session, *, incident: Incident, actor: Actor, kind: str, summary: str,
                       data: dict | None = None) -> IncidentTimelineEntry:
    """Append one entry to an incident's timeline."""
    entry = IncidentTimelineEntry(incident_id=incident.id, at=clock.utcnow(), kind=kind, summary=summary[:500],
                                  username=actor.username, data=data or {})
    session.add(entry)
    return entry


def incident_updated(session: Session, *, incident: Incident, change: str) -> IncidentUpdated:
    """The event telling the incident's agency what was added to it."""
    return IncidentUpdated(agency_ori=agency_ori_of(session, incident.agency_id), **IncidentEvent.fields_of(incident),
                           change=change)


def open_incident(session: Session, *, runtime: Runtime, locator: CameraLocator, actor: Actor, title: str,
                  type: str, priority: int, latitude: float, longitude: float, address: str | None,
                  agency_id: int | None, call_id: str | None) -> Incident:
    """Open an incident and dock the cameras that best see its location."""
    incident = Incident(title=title[:300], type=type, priority=priority, latitude=latitude, longitude=longitude,
                        address=address, status="open", agency_id=agency_id, call_id=call_id, opened_at=clock.utcnow())
    session.add(incident)
    session.flush()
    settings = runtime.settings
    selection = select_cameras(session, locator=locator, actor=actor, latitude=latitude, longitude=longitude,
                               radius_m=settings.camera_selection_radius_m, limit=settings.camera_selection_dock_count,
                               candidate_limit=settings.camera_selection_footage_candidates)
    incident.footage_request_candidates = selection.footage_request_candidates
    add_timeline_entry(session, incident=incident, actor=actor, kind="opened", summary=f"Opened: {incident.title}",
                       data={"call_id": call_id, "priority": priority})
    for camera in selection.docked:
        session.add(IncidentCamera(incident_id=incident.id, camera_id=camera.camera_id, camera_name=camera.name,
                                   rank=camera.rank, reason=camera.reason, distance_m=camera.distance_m,
                                   sees_location=camera.sees_location))
        add_timeline_entry(session, incident=incident, actor=actor, kind="camera_docked",
                           summary=f"Camera {camera.name} docked: {camera.reason}",
                           data={"camera_id": camera.camera_id, "rank": camera.rank})
    docked_ids = [camera.camera_id for camera in selection.docked]
    candidate_ids = [candidate["camera_id"] for candidate in selection.footage_request_candidates]
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=IncidentOpened(agency_ori=agency_ori_of(session, agency_id), **IncidentEvent.fields_of(incident),
                                      cameras=docked_ids),
                 object_type="incident", object_id=incident.id,
                 details={"call_id": call_id, "type": type, "priority": priority,
                          "docked_cameras": docked_ids, "footage_request_candidates": candidate_ids})
    return incident


def update_incident_from_call(session: Session, *, runtime: Runtime, actor: Actor, incident: Incident,
                             values: dict) -> list[str]:
    """Bring an incident in line with its call's newer details; returns the fields changed."""
    changed = [name for name, value in values.items() if getattr(incident, name) != value]
    if not changed:
        return changed
    for name in changed:
        setattr(incident, name, values[name])
    add_timeline_entry(session, incident=incident, actor=actor, kind="call_updated",
                       summary=f"Call updated: {', '.join(changed)}", data={name: values[name] for name in changed})
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=incident_updated(session, incident=incident, change="call_updated"),
                 object_type="incident", object_id=incident.id, details={"changed": changed})
    return changed


def close_incident(session: Session, *, runtime: Runtime, actor: Actor, incident: Incident, reason: str) -> bool:
    """Close an open incident; False when it was closed already (closing twice changes nothing)."""
    if incident.status == "closed":
        return False
    incident.status, incident.closed_at = "closed", clock.utcnow()
    add_timeline_entry(session, incident=incident, actor=actor, kind="closed", summary=f"Closed: {reason}")
    audit.record(session, keys=runtime.keys, actor=actor, action="incident.close",
                 event=incident_updated(session, incident=incident, change="closed"),
                 object_type="incident", object_id=incident.id, details={"reason": reason})
    return True


def get_visible_incident(session: Session, *, actor: Actor, incident_id: int) -> Incident:
    """One incident, or NotFound when it does not exist or belongs to another agency."""
    incident = session.get(Incident, incident_id)
    if incident is None or not scope.sees_agency(actor, agency_ori_of(session, incident.agency_id), kind=scope.RECORDS):
        raise NotFound(f"No incident {incident_id}.", code="incident_not_found")
    return incident


def incident_by_call(session: Session, *, call_id: str) -> Incident | None:
    return session.execute(select(Incident).where(Incident.call_id == call_id)).scalar_one_or_none()


def list_open_incidents(session: Session, *, runtime: Runtime, actor: Actor) -> list[tuple[Incident, str | None]]:
    """Open incidents the actor may see, newest first, with their agency's ORI."""
    rows = session.execute(
        select(Incident, Agency.ori).outerjoin(Agency, Incident.agency_id == Agency.id)
        .where(Incident.status == "open").order_by(Incident.opened_at.desc(), Incident.id.desc())
        .limit(OPEN_INCIDENTS_LIMIT)
    ).all()
    visible = [(incident, ori) for incident, ori in rows if scope.sees_agency(actor, ori, kind=scope.RECORDS)]
    audit.record(session, keys=runtime.keys, actor=actor, action="incident.list", object_type="incident",
                 details={"count": len(visible)})
    return visible


def view_incident(session: Session, *, runtime: Runtime, actor: Actor, incident_id: int) -> IncidentDetailOut:
    """One incident with its timeline and docked cameras, audited as viewed."""
    incident = get_visible_incident(session, actor=actor, incident_id=incident_id)
    audit.record(session, keys=runtime.keys, actor=actor, action="incident.view", object_type="incident",
                 object_id=incident.id)
    return describe_incident(session, actor=actor, incident=incident)


def add_note(session: Session, *, runtime: Runtime, actor: Actor, incident_id: int, text: str) -> IncidentDetailOut:
    """A person's note on the incident's timeline."""
    incident = get_visible_incident(session, actor=actor, incident_id=incident_id)
    entry = add_timeline_entry(session, incident=incident, actor=actor, kind="note_added", summary=text[:500],
                               data={"text": text})
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor, action="incident.note",
                 event=incident_updated(session, incident=incident, change="note_added"),
                 object_type="incident", object_id=incident.id, details={"timeline_entry_id": entry.id, "length": len(text)})
    return describe_incident(session, actor=actor, incident=incident)


def request_footage(session: Session, *, runtime: Runtime, actor: Actor, incident_id: int, camera_id: int,
                    note: str) -> IncidentDetailOut:
    """Ask a private camera's owner for footage: recorded on the timeline (the owner is contacted outside the system)."""
    incident = get_visible_incident(session, actor=actor, incident_id=incident_id)
    candidate = next((c for c in incident.footage_request_candidates or [] if c["camera_id"] == camera_id), None)
    if candidate is None:
        raise InvalidInput(f"Camera {camera_id} is not a footage-request candidate of incident {incident_id}.",
                           code="not_a_footage_candidate")
    owner = candidate.get("owner_name") or "its owner"
    entry = add_timeline_entry(session, incident=incident, actor=actor, kind="footage_requested",
                               summary=f"Footage requested from {owner} ({candidate['name']})" + (f": {note}" if note else ""),
                               data={"camera_id": camera_id, "owner_name": candidate.get("owner_name"), "note": note})
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor, action="incident.footage_request",
                 event=incident_updated(session, incident=incident, change="footage_requested"),
                 object_type="incident", object_id=incident.id, details={"camera_id": camera_id, "timeline_entry_id": entry.id})
    return describe_incident(session, actor=actor, incident=incident)


def record_plate_alert(session: Session, *, camera_id: int | None, alert_id: int, plate: str, hotlist: str,
                       reason: str | None, agency_id: int) -> list[int]:
    """A plate hit on a camera docked to open incidents of the hotlist's agency goes on their timelines; returns their ids.

    Only that agency's incidents: another agency's timeline would show them a hit (plate, list, reason) of a
    hotlist they may not read, on a camera they may share."""
    if camera_id is None:
        return []
    found = session.execute(
        select(Incident).join(IncidentCamera, IncidentCamera.incident_id == Incident.id)
        .where(IncidentCamera.camera_id == camera_id, Incident.status == "open", Incident.agency_id == agency_id)
    ).scalars().all()
    for incident in found:
        add_timeline_entry(session, incident=incident, actor=SYSTEM, kind="plate_alert",
                           summary=f"Plate hit {plate} on docked camera {camera_id}: {hotlist}" + (f", {reason}" if reason else ""),
                           data={"alert_id": alert_id, "camera_id": camera_id, "plate": plate})
        emit(session, incident_updated(session, incident=incident, change="plate_alert"))
    return [incident.id for incident in found]


def describe_incident(session: Session, *, actor: Actor, incident: Incident) -> IncidentDetailOut:
    """The incident as the actor may see it: cameras outside their camera scope are left out."""
    session.flush()
    docked = list(session.execute(
        select(IncidentCamera).where(IncidentCamera.incident_id == incident.id).order_by(IncidentCamera.rank)
    ).scalars())
    candidates = incident.footage_request_candidates or []
    ids = [row.camera_id for row in docked] + [candidate["camera_id"] for candidate in candidates]
    camera_scopes = {camera.id: (ori, camera.groups or []) for camera, ori in cameras.cameras_by_ids(session, ids)}

    def in_scope(camera_id: int) -> bool:
        # A camera since removed from the registry is still shown as history: no stream is reachable through it.
        if camera_id not in camera_scopes:
            return True
        agency_ori, groups = camera_scopes[camera_id]
        return scope.sees_camera(actor, agency_ori=agency_ori, groups=groups)

    timeline = session.execute(
        select(IncidentTimelineEntry).where(IncidentTimelineEntry.incident_id == incident.id)
        .order_by(IncidentTimelineEntry.at, IncidentTimelineEntry.id)
    ).scalars()
    return IncidentDetailOut(
        id=incident.id, title=incident.title, type=incident.type, priority=incident.priority,
        latitude=incident.latitude, longitude=incident.longitude, address=incident.address, status=incident.status,
        agency_ori=agency_ori_of(session, incident.agency_id), call_id=incident.call_id,
        opened_at=incident.opened_at, closed_at=incident.closed_at,
        cameras=[DockedCameraOut(camera_id=row.camera_id, name=row.camera_name, rank=row.rank, reason=row.reason,
                                 distance_m=row.distance_m, sees_location=row.sees_location)
                 for row in docked if in_scope(row.camera_id)],
        footage_request_candidates=[FootageRequestCandidateOut(**candidate) for candidate in candidates
                                    if in_scope(candidate["camera_id"])],
        timeline=[TimelineEntryOut(at=entry.at, kind=entry.kind, summary=entry.summary, username=entry.username,
                                   data=entry.data or {}) for entry in timeline],
    )
