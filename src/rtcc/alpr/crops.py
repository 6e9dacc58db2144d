"""Plate crops by read id: shown to those who may see the read, through an alert or a purpose-bound search."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from rtcc.alpr import alerts, scope
from rtcc.alpr.models import PlateRead
from rtcc.alpr.search import check_purpose
from rtcc.audit import service as audit
from rtcc.core.actor import Actor
from rtcc.core.errors import NotFound
from rtcc.core.runtime import Runtime
from rtcc.policy import engine as policy


class CropRefused(NotFound):
    """The same answer for a read that does not exist, has no crop, or is outside the caller's scope."""

    code = "crop_not_found"

    def __init__(self, read_id: int, reason: str):
        super().__init__(f"Read {read_id} has no crop you may see.")
        self.reason = reason  # for the audit record only: the caller never learns which it was


def _crop_file(runtime: Runtime, read: PlateRead | None) -> Path | None:
    if read is None or not read.crop_path:
        return None
    root = (runtime.settings.data_dir / "plates").resolve()
    path = (runtime.settings.data_dir / read.crop_path).resolve()
    return path if root in path.parents and path.is_file() else None


def visible_crop(session: Session, *, runtime: Runtime, actor: Actor, read_id: int, purpose: str | None = None,
                 case_number: str | None = None, purpose_category: str | None = None) -> Path:
    """The crop file of a read the actor may see, audited; CropRefused otherwise.

    Through an alert: the read raised an alert the actor may see (alerts.view). Through search: the actor holds
    alpr.search, gives a purpose, case number and purpose category as a search does, and the read's camera is in
    their scope.
    """
    searching = bool(purpose or case_number or purpose_category)
    category = None
    if searching:  # checked before the read is looked up, so a bad purpose says nothing about the id
        check_purpose(purpose, case_number)
        category = policy.check_use(session, keys=runtime.keys, actor=actor, data_class="plate_reads",
                                    purpose=purpose_category, action="search", subject=f"crop of read {read_id}")
    read = session.get(PlateRead, read_id)
    if read is None:
        raise CropRefused(read_id, "no_such_read")
    alert = alerts.visible_alert_of_read(session, actor=actor, read_id=read_id) if actor.can("alerts.view") else None
    if alert is None and not (searching and actor.can("alpr.search") and scope.sees_read(session, actor=actor,
                                                                                         camera_id=read.camera_id)):
        raise CropRefused(read_id, "out_of_scope")
    path = _crop_file(runtime, read)
    if path is None:
        raise CropRefused(read_id, "no_crop")
    audit.record(session, keys=runtime.keys, actor=actor, action="alpr.crop_view", object_type="plate_read", object_id=read_id,
                 purpose=None if alert else purpose.strip(), case_number=None if alert else case_number,
                 details={"via": "alert", "alert_id": alert.id} if alert else {"via": "search", "purpose_category": category})
    return path


def record_refusal(session: Session, *, runtime: Runtime, actor: Actor, read_id: int, refusal: CropRefused,
                   purpose: str | None = None, case_number: str | None = None) -> None:
    """Audit a refused crop (in its own transaction: the refusal itself rolls the request's back)."""
    audit.record(session, keys=runtime.keys, actor=actor, action="alpr.crop_view", outcome="denied", object_type="plate_read",
                 object_id=read_id, purpose=(purpose or "").strip()[:500] or None, case_number=case_number or None,
                 details={"reason": refusal.reason})
