"""What a legal hold covers, for every data class: one test (HoldSet.covering) that every purger's items meet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from rtcc.alpr.models import PlateAlert, PlateRead
from rtcc.audit.models import AuditRecord
from rtcc.cameras.models import Camera
from rtcc.core.errors import NotFound
from rtcc.governance.retention.models import LegalHold
from rtcc.incidents.models import Incident, IncidentCamera
from rtcc.sharing.models import FieldShare
from rtcc.video.models import EvidenceExport, RecordingSegment

CASE, INCIDENT, CAMERA, PLATE, COMMUNITY_UPLOAD = "case", "incident", "camera", "plate", "community_upload"
KINDS = (CASE, INCIDENT, CAMERA, PLATE, COMMUNITY_UPLOAD)
FOREVER = datetime.max.replace(tzinfo=None)


@dataclass
class Item:
    """One purgeable thing of a class, with what a hold may match it by."""

    key: str  # class-unique, shown in receipts: "segment:12", "read:40"
    at: datetime  # the span of time it records
    until: datetime
    bytes: int = 0
    reason: str = ""  # the receipt's breakdown line it counts under
    camera_id: int | None = None
    plate: str | None = None
    case_number: str | None = None
    incident_id: int | None = None
    upload_id: str | None = None
    ref: Any = None  # the purger's own handle (the row's id)
    kept_because: str = ""  # set: it stays whatever its age (its case is open), counted apart, never purged


@dataclass(frozen=True)
class _Window:
    hold_id: int
    camera_id: int | None  # None: every camera
    starts_at: datetime
    ends_at: datetime

    def covers(self, item: Item) -> bool:
        if item.camera_id is None and self.camera_id is not None:
            return False
        return (self.camera_id is None or self.camera_id == item.camera_id) and \
            _naive(item.at) < self.ends_at and _naive(item.until) > self.starts_at


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo else moment


@dataclass
class HoldSet:
    """The open holds, expanded into what they match: camera windows, plates, case numbers, incidents, uploads."""

    windows: list[_Window] = field(default_factory=list)
    plates: dict[str, set[int]] = field(default_factory=dict)
    cases: dict[str, set[int]] = field(default_factory=dict)
    incidents: dict[int, set[int]] = field(default_factory=dict)
    uploads: dict[str, set[int]] = field(default_factory=dict)

    def covering(self, item: Item) -> list[int]:
        """The ids of the holds that keep this item (empty: it may go)."""
        held: set[int] = set()
        held.update(w.hold_id for w in self.windows if w.covers(item))
        for value, index in ((item.plate, self.plates), (item.case_number, self.cases),
                             (item.incident_id, self.incidents), (item.upload_id, self.uploads)):
            if value is not None:
                held.update(index.get(value, ()))
        return sorted(held)

    @property
    def touches_plate_reads(self) -> bool:
        """Whether any hold may keep a plate read (a plate, or a camera window)."""
        return bool(self.plates or self.windows)


def open_holds(session: Session) -> list[LegalHold]:
    return list(session.execute(select(LegalHold).where(LegalHold.released_at.is_(None)).order_by(LegalHold.id)).scalars())


def hold_set(session: Session) -> HoldSet:
    """Every open hold, expanded: an incident's hold keeps its docked cameras' video while it was open, a case's
    hold keeps the footage of the case's exports."""
    holds = HoldSet()
    for hold in open_holds(session):
        if hold.kind == CAMERA:
            holds.windows.append(_Window(hold.id, hold.camera_id, _naive(hold.starts_at), _naive(hold.ends_at)))
        elif hold.kind == PLATE:
            holds.plates.setdefault(hold.plate, set()).add(hold.id)
        elif hold.kind == CASE:
            holds.cases.setdefault(hold.case_number, set()).add(hold.id)
            for export in session.execute(select(EvidenceExport).where(EvidenceExport.case_number == hold.case_number)).scalars():
                holds.windows.append(_Window(hold.id, export.camera_id, _naive(export.starts_at), _naive(export.ends_at)))
        elif hold.kind == INCIDENT:
            holds.incidents.setdefault(hold.incident_id, set()).add(hold.id)
            incident = session.get(Incident, hold.incident_id)
            if incident is not None:
                ends = _naive(incident.closed_at) if incident.closed_at else FOREVER
                for camera_id in session.execute(select(IncidentCamera.camera_id).where(
                        IncidentCamera.incident_id == incident.id)).scalars():
                    holds.windows.append(_Window(hold.id, camera_id, _naive(incident.opened_at), ends))
        elif hold.kind == COMMUNITY_UPLOAD:
            holds.uploads.setdefault(hold.upload_id, set()).add(hold.id)
    return holds


def check_target_exists(session: Session, hold: LegalHold) -> None:
    """A hold on something that does not exist is refused (NotFound says what was not found)."""
    if hold.kind == CASE:
        known = session.execute(select(
            exists().where(EvidenceExport.case_number == hold.case_number)
            | exists().where(FieldShare.case_number == hold.case_number)
            | exists().where(AuditRecord.case_number == hold.case_number))).scalar()
        if not known:
            raise NotFound(f"No record carries case number {hold.case_number!r}.", code="hold_target_not_found")
    elif hold.kind == INCIDENT:
        if session.get(Incident, hold.incident_id) is None:
            raise NotFound(f"No incident {hold.incident_id}.", code="hold_target_not_found")
    elif hold.kind == CAMERA:
        if hold.camera_id is not None and session.get(Camera, hold.camera_id) is None and not session.execute(
                select(exists().where(RecordingSegment.camera_id == hold.camera_id))).scalar():
            raise NotFound(f"No camera {hold.camera_id}, and no recording of one.", code="hold_target_not_found")
    elif hold.kind == PLATE:
        known = session.execute(select(exists().where(PlateRead.plate == hold.plate)
                                       | exists().where(PlateAlert.plate == hold.plate))).scalar()
        if not known:
            raise NotFound(f"No read of plate {hold.plate!r}.", code="hold_target_not_found")
    elif hold.kind == COMMUNITY_UPLOAD:
        from rtcc.governance.retention.purgers import upload_exists

        if not upload_exists(session, hold.upload_id):
            raise NotFound(f"No community upload {hold.upload_id!r}.", code="hold_target_not_found")
