"""Plate alerts: raised by a hotlist match, de-duplicated, verified by a person, then disposed of."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.alpr import scope
from rtcc.alpr.events import PlateAlertRaised, PlateAlertUpdated
from rtcc.alpr.matcher import Match
from rtcc.alpr.models import Hotlist, HotlistEntry, PlateAlert, PlateRead
from rtcc.audit import service as audit
from rtcc.auth import scope as agency_scope
from rtcc.auth.models import Agency
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import Conflict, InvalidInput, NotFound
from rtcc.core.events import emit
from rtcc.core.runtime import Runtime

DISPOSITIONS = ("confirmed", "misread", "vehicle_mismatch", "entry_inactive", "other")
FALSE_HITS = ("misread", "vehicle_mismatch", "entry_inactive")
# Statuses before a person's verification: "acknowledged" says someone on the floor has it in hand.
UNVERIFIED = ("new", "acknowledged")


def raise_alerts(session: Session, *, runtime: Runtime, read_id: int, plate: str, camera_id: int | None, read_at: datetime,
                 matches: list[Match]) -> int:
    """One alert per matching entry, unless the same plate and camera alerted within the window (then folded in)."""
    session.execute(PlateRead.__table__.update().where(PlateRead.id == read_id).values(matched=True))
    window_start = read_at - timedelta(seconds=runtime.settings.alert_dedupe_seconds)
    raised = 0
    for match in matches:
        recent = session.execute(
            select(PlateAlert).where(PlateAlert.entry_id == match.entry.entry_id, PlateAlert.camera_id == camera_id,
                                     PlateAlert.created_at >= window_start, PlateAlert.status.in_(UNVERIFIED))
        ).scalars().first()
        if recent is not None:
            recent.repeats += 1
            continue
        hotlist = session.get(Hotlist, match.entry.hotlist_id)
        # The priority is the alert's own from here on: whoever sees the alert sees how urgent it is, whether or
        # not they may read the hotlist it came from.
        alert = PlateAlert(read_id=read_id, entry_id=match.entry.entry_id, hotlist_id=match.entry.hotlist_id, camera_id=camera_id,
                           plate=plate, match_method=match.method, priority=hotlist.priority, status="new", repeats=0,
                           created_at=clock.utcnow())
        session.add(alert)
        session.flush()
        entry = session.get(HotlistEntry, match.entry.entry_id)
        read = session.get(PlateRead, read_id)
        agency_ori, camera_groups = alert_event_scope(session, alert)
        # Its handlers (an incident's timeline) run in this transaction: see incidents/handlers.py.
        emit(session, PlateAlertRaised(
            agency_ori=agency_ori, camera_groups=camera_groups, alert_id=alert.id, read_id=read_id, plate=plate,
            matched_plate=match.matched_plate, method=match.method, camera_id=camera_id, read_at=clock.iso(read_at),
            crop=read.crop_path, hotlist=hotlist.name, priority=alert.priority, reason=entry.reason,
            vehicle={"make": entry.make, "model": entry.model, "colour": entry.colour, "state": entry.state},
        ))
        raised += 1
    return raised


def alert_event_scope(session: Session, alert: PlateAlert) -> tuple[str, list[str] | None]:
    """Who may receive an alert's events: its hotlist's agency, and the groups of its camera (None: no camera known)."""
    agency_ori = session.execute(select(Agency.ori).join(Hotlist, Hotlist.agency_id == Agency.id)
                                 .where(Hotlist.id == alert.hotlist_id)).scalar_one()
    camera = scope.camera_scope(session, alert.camera_id)
    return agency_ori, camera[1] if camera else None


def _of_agency(statement, actor: Actor):
    """An alert belongs to its hotlist's agency, as its event does: casework of that agency (auth/scope.py)."""
    in_scope = agency_scope.agency_condition(actor, Agency.ori, kind=agency_scope.RECORDS)
    if in_scope is None:
        return statement
    return (statement.join(Hotlist, Hotlist.id == PlateAlert.hotlist_id).join(Agency, Agency.id == Hotlist.agency_id)
            .where(in_scope))


def _in_scope(session: Session, statement, actor: Actor):
    """The hotlist's agency, and for someone limited to camera groups only those groups' cameras: the rule of the
    list, which every alert fetched by id applies too (scope.sees_alert_camera)."""
    cameras = scope.camera_condition(session, actor=actor, column=PlateAlert.camera_id, same_agency=False)
    statement = _of_agency(statement, actor)
    return statement if cameras is None else statement.where(cameras)


def get_alert(session: Session, *, actor: Actor, alert_id: int) -> PlateAlert:
    """One alert, or NotFound (as for an id that does not exist) when it is outside the actor's scope."""
    alert = session.execute(_of_agency(select(PlateAlert).where(PlateAlert.id == alert_id), actor)).scalar_one_or_none()
    if alert is None or not scope.sees_alert_camera(session, actor=actor, camera_id=alert.camera_id):
        raise NotFound(f"No alert {alert_id}.", code="alert_not_found")
    return alert


def visible_alert_of_read(session: Session, *, actor: Actor, read_id: int) -> PlateAlert | None:
    """The newest alert raised by this read that the actor may see, if any."""
    statement = _of_agency(select(PlateAlert).where(PlateAlert.read_id == read_id), actor).order_by(PlateAlert.id.desc())
    return next((alert for alert in session.execute(statement).scalars()
                 if scope.sees_alert_camera(session, actor=actor, camera_id=alert.camera_id)), None)


def list_alerts(session: Session, *, actor: Actor, status: str | None = None, limit: int = 100) -> list[PlateAlert]:
    """The alerts in the actor's scope, newest first."""
    statement = _in_scope(session, select(PlateAlert), actor).order_by(PlateAlert.id.desc()).limit(limit)
    if status:
        statement = statement.where(PlateAlert.status == status)
    return list(session.execute(statement).scalars())


def acknowledge(session: Session, *, runtime: Runtime, actor: Actor, alert_id: int) -> PlateAlert:
    """Someone on the floor has the alert in hand: other consoles stop sounding it. Idempotent."""
    alert = get_alert(session, actor=actor, alert_id=alert_id)
    if alert.status == "new":
        alert.status = "acknowledged"
        audit.record(session, keys=runtime.keys, actor=actor, action="alert.acknowledge",
                     event=_update_event(session, alert, by=actor.username), object_type="plate_alert", object_id=alert.id)
    return alert


def verify(session: Session, *, runtime: Runtime, actor: Actor, alert_id: int, crop_matches_plate: bool,
           vehicle_matches: bool, entry_still_active: bool) -> PlateAlert:
    """A person's three checks; only when all hold does the alert become actionable."""
    alert = get_alert(session, actor=actor, alert_id=alert_id)
    if alert.status not in UNVERIFIED:
        raise Conflict(f"Alert {alert_id} was already {alert.status}.", code="alert_not_new")
    alert.crop_matches_plate, alert.vehicle_matches, alert.entry_still_active = crop_matches_plate, vehicle_matches, entry_still_active
    alert.verified_by, alert.verified_at = actor.username, clock.utcnow()
    checks_pass = crop_matches_plate and vehicle_matches and entry_still_active
    if checks_pass:
        alert.status = "actionable"
    else:  # a failed check is itself the disposition
        alert.status = "closed"
        alert.disposition = "misread" if not crop_matches_plate else ("vehicle_mismatch" if not vehicle_matches else "entry_inactive")
        alert.disposed_by, alert.disposed_at = actor.username, alert.verified_at
    audit.record(session, keys=runtime.keys, actor=actor, action="alert.verify", event=_update_event(session, alert),
                 object_type="plate_alert", object_id=alert.id,
                 details={"crop_matches_plate": crop_matches_plate, "vehicle_matches": vehicle_matches,
                          "entry_still_active": entry_still_active, "status": alert.status})
    return alert


def dispose(session: Session, *, runtime: Runtime, actor: Actor, alert_id: int, disposition: str, note: str = "") -> PlateAlert:
    """Record how an alert ended (confirmed stop, misread, ...)."""
    if disposition not in DISPOSITIONS:
        raise InvalidInput(f"Disposition must be one of {', '.join(DISPOSITIONS)}.", code="invalid_disposition")
    alert = get_alert(session, actor=actor, alert_id=alert_id)
    if disposition == "confirmed" and alert.status != "actionable":
        raise Conflict("Only a verified (actionable) alert can be confirmed.", code="alert_not_verified")
    alert.status, alert.disposition, alert.disposition_note = "closed", disposition, note[:2000] or None
    alert.disposed_by, alert.disposed_at = actor.username, clock.utcnow()
    audit.record(session, keys=runtime.keys, actor=actor, action="alert.dispose",
                 event=_update_event(session, alert, disposition=disposition), object_type="plate_alert",
                 object_id=alert.id, details={"disposition": disposition})
    return alert


def _update_event(session: Session, alert: PlateAlert, **data) -> PlateAlertUpdated:
    """An alert's change goes to those who may see the alert, not to every agency's consoles."""
    agency_ori, camera_groups = alert_event_scope(session, alert)
    return PlateAlertUpdated(agency_ori=agency_ori, camera_groups=camera_groups, alert_id=alert.id,
                             status=alert.status, priority=alert.priority, **data)


def false_hit_rates(session: Session, *, actor: Actor) -> dict[str, dict]:
    """Per camera and per hotlist, of the alerts in the actor's scope: disposed alerts, how many were false hits, the rate."""
    result: dict[str, dict] = {"by_camera": {}, "by_hotlist": {}}
    for key, column in (("by_camera", PlateAlert.camera_id), ("by_hotlist", PlateAlert.hotlist_id)):
        statement = select(column, PlateAlert.disposition, func.count()).select_from(PlateAlert)
        rows = session.execute(
            _in_scope(session, statement, actor).where(PlateAlert.disposition.is_not(None)).group_by(column, PlateAlert.disposition)
        ).all()
        for owner, disposition, count in rows:
            figures = result[key].setdefault(str(owner), {"disposed": 0, "false_hits": 0})
            figures["disposed"] += count
            figures["false_hits"] += count if disposition in FALSE_HITS else 0
        for figures in result[key].values():
            figures["false_hit_rate"] = round(figures["false_hits"] / figures["disposed"], 3) if figures["disposed"] else 0.0
    return result
