"""Calls for service from CAD: stored and updated by call_id; the serious ones open incidents.

Which calls open an incident (settings, see docs/configuration.md):
- any call of priority INCIDENT_PRIORITY_AT_MOST (default 2) or more urgent (1 is the most urgent), or
- any call whose type, compared case-insensitively, is one of INCIDENT_CALL_TYPES, whatever its priority.
A call that opens none is still stored; if a later update raises its priority, it opens one then.
A call sent with status "closed" closes itself and its incident; sending it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.cameras.locator import CameraLocator
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.incidents.settings import IncidentSettings
from rtcc.core.errors import Conflict
from rtcc.core.runtime import Runtime
from rtcc.incidents import service as incidents
from rtcc.incidents.models import CallForService, Incident
from rtcc.incidents.schemas import CallIn

CLOSED_STATUS = "closed"
_CALL_FIELDS = ("type", "priority", "address", "latitude", "longitude", "received_at", "narrative", "units", "extra", "status")
_INCIDENT_FIELDS = ("type", "priority", "address", "latitude", "longitude")


@dataclass(frozen=True)
class CallOutcome:
    """What receiving a call did: opened an incident, updated (or closed) one, or none."""

    call: CallForService
    incident: Incident | None
    opened: bool
    changed: tuple[str, ...] = ()  # the call's fields this receipt changed ("created" for a new call)


def opens_incident(*, settings: IncidentSettings, call_type: str, priority: int) -> bool:
    """Whether a call of this type and priority opens an incident under the settings' rules."""
    opening_types = {name.strip().lower() for name in settings.incident_call_types}
    return priority <= settings.incident_priority_at_most or call_type.strip().lower() in opening_types


def normalise_received_at(received_at: datetime) -> datetime:
    """UTC, to the millisecond: what both database engines store and compare back equal."""
    received_at = received_at.astimezone(UTC)
    return received_at.replace(microsecond=received_at.microsecond - received_at.microsecond % 1000)


def incident_title(*, call_type: str, address: str | None, latitude: float, longitude: float) -> str:
    where = address or f"{latitude:.5f}, {longitude:.5f}"
    return f"{call_type.strip().capitalize()} at {where}"


def call_values(body: CallIn) -> dict[str, Any]:
    """What receive_call takes, from a validated call (REST body or CAD file row)."""
    values = body.model_dump(include=set(CallIn.model_fields))
    values["received_at"] = normalise_received_at(body.received_at)
    values["extra"] = dict(body.model_extra or {})
    return values


def _upsert_call(session: Session, *, actor: Actor, values: dict[str, Any]) -> tuple[CallForService, list[str]]:
    call = session.execute(select(CallForService).where(CallForService.call_id == values["call_id"])).scalar_one_or_none()
    now = clock.utcnow()
    if call is None:
        agency_id = incidents.actor_agency_id(session, actor)
        call = CallForService(call_id=values["call_id"], agency_id=agency_id, created_at=now,
                              **{name: values[name] for name in _CALL_FIELDS})
        session.add(call)
        session.flush()
        return call, ["created"]
    if not scope.sees_agency(actor, incidents.agency_ori_of(session, call.agency_id), kind=scope.RECORDS):
        raise Conflict(f"Call {values['call_id']} belongs to another agency.", code="call_of_another_agency")
    changed = [name for name in _CALL_FIELDS if getattr(call, name) != values[name]]
    if call.status == CLOSED_STATUS and values["status"].lower() != CLOSED_STATUS:
        # A closed call stays closed: CAD systems resend old states out of order.
        changed = [name for name in changed if name != "status"]
    for name in changed:
        setattr(call, name, values[name])
    if changed:
        call.updated_at = now
    return call, changed


def receive_call(session: Session, *, runtime: Runtime, locator: CameraLocator, actor: Actor,
                 values: dict[str, Any]) -> CallOutcome:
    """Store or update a call by its call_id, then open, update or close its incident."""
    values = {**values, "status": values["status"].strip().lower()}
    call, changed = _upsert_call(session, actor=actor, values=values)
    closing = call.status == CLOSED_STATUS
    if closing and call.closed_at is None:
        call.closed_at = clock.utcnow()
    audit.record(session, keys=runtime.keys, actor=actor, action="cad.call_receive", object_type="cad_call",
                 object_id=call.call_id, details={"changed": changed, "status": call.status, "priority": call.priority,
                                                 "type": call.type})
    incident = incidents.incident_by_call(session, call_id=call.call_id)
    if incident is None:
        if closing or not opens_incident(settings=runtime.settings, call_type=call.type, priority=call.priority):
            return CallOutcome(call=call, incident=None, opened=False, changed=tuple(changed))
        incident = incidents.open_incident(
            session, runtime=runtime, locator=locator, actor=actor,
            title=incident_title(call_type=call.type, address=call.address, latitude=call.latitude, longitude=call.longitude),
            type=call.type, priority=call.priority, latitude=call.latitude, longitude=call.longitude,
            address=call.address, agency_id=call.agency_id, call_id=call.call_id)
        return CallOutcome(call=call, incident=incident, opened=True, changed=tuple(changed))
    if incident.status == "open":
        incident_values = {name: getattr(call, name) for name in _INCIDENT_FIELDS}
        incident_values["title"] = incident_title(call_type=call.type, address=call.address, latitude=call.latitude,
                                                  longitude=call.longitude)
        incidents.update_incident_from_call(session, runtime=runtime, actor=actor, incident=incident, values=incident_values)
    if closing:
        incidents.close_incident(session, runtime=runtime, actor=actor, incident=incident, reason=f"call {call.call_id} closed")
    return CallOutcome(call=call, incident=incident, opened=False, changed=tuple(changed))
