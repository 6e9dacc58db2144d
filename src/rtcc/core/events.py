"""Typed events: everything that happens is one, published on the bus after its transaction commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from rtcc.core import clock
from rtcc.core.actor import Actor

_PENDING = "rtcc_pending_events"


class Event(BaseModel):
    """Base of every event: who may see it is part of the event itself."""

    type: str
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: datetime = Field(default_factory=clock.utcnow)
    # Visibility: the permission a subscriber needs, the agency it belongs to (None: every agency)
    # and the camera groups it concerns (None: no camera).
    permission: str
    agency_ori: str | None = None
    camera_groups: list[str] | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    registry: ClassVar[dict[str, str]] = {}

    def subject(self) -> str:
        """The bus subject: rtcc.<type>."""
        return f"rtcc.{self.type}"

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> "Event":
        return cls.model_validate_json(text)


# The event types the platform emits, with the permission needed to receive each.
EVENT_PERMISSIONS: dict[str, str] = {
    "user.created": "users.read",
    "user.updated": "users.read",
    "user.locked": "users.read",
    "user.signed_in": "users.read",
    "audit.recorded": "audit.read",
    "camera.created": "cameras.view",
    "camera.updated": "cameras.view",
    "cameras.imported": "cameras.view",
    "camera.status": "cameras.view",
    "camera.motion": "cameras.view",
    "evidence.exported": "video.export",
    "plate.alert": "alerts.view",
    "plate.alert_updated": "alerts.view",
    "incident.opened": "incidents.view",
    "incident.updated": "incidents.view",
    "share.created": "shares.send",
    "share.revoked": "shares.send",
    "share.opened": "shares.send",
}


def make_event(event_type: str, *, agency_ori: str | None = None, camera_groups: list[str] | None = None, **data: Any) -> Event:
    """An event of a declared type, carrying the permission its receivers need."""
    return Event(
        type=event_type,
        permission=EVENT_PERMISSIONS[event_type],
        agency_ori=agency_ori,
        camera_groups=camera_groups,
        data=data,
    )


def visible_to(event: Event, actor: Actor) -> bool:
    """Whether a subscriber may receive this event: permission, agency and camera scope."""
    if not actor.can(event.permission):
        return False
    cross_agency = actor.role in ("admin", "auditor") or actor.via == "system"
    if event.agency_ori and not cross_agency and event.agency_ori != actor.agency_ori:
        return False
    if event.camera_groups is not None:
        return actor.sees_camera(agency_ori=event.agency_ori, groups=event.camera_groups)
    return True


def emit(session: Session, event: Event) -> None:
    """Queue an event to publish when (and only if) the session's transaction commits."""
    session.info.setdefault(_PENDING, []).append(event)


def take_pending(session: Session) -> list[Event]:
    """Remove and return the events queued on a session."""
    return session.info.pop(_PENDING, [])
