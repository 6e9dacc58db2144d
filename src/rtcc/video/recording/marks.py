"""Marks: 'something happened on this camera now' — what event-only recording keeps video around."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.cameras.service import get_visible_camera
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput
from rtcc.core.runtime import Runtime
from rtcc.video.models import RecordingMark


def mark_event(session: Session, *, runtime: Runtime, actor: Actor, camera_id: int, reason: str,
               at: datetime | None = None) -> RecordingMark:
    """Keep the video around `at` (default now) on this camera; audited when a person or integration marks."""
    get_visible_camera(session, actor=actor, camera_id=camera_id)
    now = clock.utcnow()
    at = at or now
    if at > now:
        raise InvalidInput("A mark cannot be in the future.", code="invalid_mark_time")
    mark = RecordingMark(camera_id=camera_id, at=at, reason=reason.strip()[:200], source=actor.username or actor.via,
                         created_at=now)
    session.add(mark)
    session.flush()
    if actor.via not in ("system",):
        audit.record(session, keys=runtime.keys, actor=actor, action="video.mark", object_type="camera",
                     object_id=camera_id, details={"reason": mark.reason, "at": clock.iso(at)})
    return mark
