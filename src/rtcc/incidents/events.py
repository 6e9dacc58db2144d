"""Events of incidents."""

from __future__ import annotations

from pydantic import Field

from rtcc.core.events import Event
from rtcc.incidents.models import Incident


class IncidentEvent(Event):
    """What every incident event says about the incident; its agency's console hears of it."""

    permission = "incidents.view"
    incident_id: int
    title: str
    incident_type: str = Field(alias="type")  # "type" on the wire, as the console reads it
    priority: int
    latitude: float
    longitude: float
    status: str

    @staticmethod
    def fields_of(incident: Incident) -> dict:
        """The incident's own fields as every incident event carries them."""
        return {"incident_id": incident.id, "title": incident.title, "incident_type": incident.type,
                "priority": incident.priority, "latitude": incident.latitude, "longitude": incident.longitude,
                "status": incident.status}


class IncidentOpened(IncidentEvent):
    type = "incident.opened"
    audit_action = "incident.open"
    cameras: list[int]


class IncidentUpdated(IncidentEvent):
    """Something was added to an incident; `change` says what (closed, note_added, plate_alert, shared_to_field, ...)."""

    type = "incident.updated"
    audit_action = "incident.update"
    change: str
