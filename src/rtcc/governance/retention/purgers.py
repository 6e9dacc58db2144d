"""One purger per data class, registered by class name: what is past its clock, and how it goes.

A purger only selects and removes; the engine (engine.py) decides with the holds what may go, batches it,
commits each batch and writes the receipt. A capability that brings a new class (drone video, body-worn video,
community uploads) registers its purger here under the class name; until then the class reports nothing.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.orm import Session

from rtcc.alpr import partitions
from rtcc.alpr.models import PlateAlert, PlateRead, SeenPlate
from rtcc.cameras.models import Camera
from rtcc.core.runtime import Runtime
from rtcc.governance.retention.cases import closed_cases
from rtcc.governance.retention.data_classes import CASE_CLOSED, REDUCE
from rtcc.governance.retention.holds import HoldSet, Item, hold_set
from rtcc.incidents.models import Incident
from rtcc.sharing.models import FieldShare
from rtcc.sharing.service import delete_media
from rtcc.video.evidence.export import exports_root
from rtcc.video.models import EvidenceExport, RecordingMark, RecordingSegment

log = logging.getLogger(__name__)
FORGET_CHUNK = 5000  # plates checked per statement when pruning seen_plates
READ_RECEIPT_CAMERA = None  # plate reads from devices outside the registry have no camera
CASE_OPEN = "case open"  # why an item under clock case_closed is kept: its case is open, or was never closed


@dataclass(frozen=True)
class PolicyInForce:
    """A class's policy as the engine applies it (version 0: no policy set, the settings' default)."""

    data_class: str
    version: int
    keep_for: timedelta
    keep_for_text: str
    clock: str
    action: str
    source: str
    citation: str = ""
    fields: dict = field(default_factory=dict)


class Purger(Protocol):
    data_class: str

    def items(self, session: Session, *, runtime: Runtime, policy: PolicyInForce, now: datetime,
              holds: HoldSet) -> Iterable[Item]:
        """What is past its clock, held or not (the engine skips the held)."""

    def remove(self, session: Session, *, runtime: Runtime, policy: PolicyInForce, items: list[Item]) -> None:
        """Delete (or reduce) these items, in the caller's transaction."""


PURGERS: dict[str, Purger] = {}


def register(purger: Purger) -> Purger:
    PURGERS[purger.data_class] = purger
    return purger


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as error:  # the row goes; the orphan file is logged for the operator
        log.error("could not delete %s: %s", path, error)


def forget_plates(session: Session, plates: set[str]) -> None:
    """Take out of seen_plates each of these plates that no stored read holds any more: a purged plate must
    not outlive its reads in the list that wildcard searches scan."""
    ordered = sorted(plates)
    if ordered and session.get_bind().dialect.name == "postgresql":
        # Wait for ingest transactions in flight (each holds seen_plates' ROW EXCLUSIVE lock until it commits)
        # and keep new ones out until this batch commits. Otherwise a read of a plate whose old reads are being
        # purged, stored but not yet committed, is invisible to the check below, and its plate is taken out of
        # the list while it gains a read. (SQLite has one writer at a time: nothing to wait for.)
        session.execute(text("LOCK TABLE seen_plates IN SHARE ROW EXCLUSIVE MODE"))
    for start in range(0, len(ordered), FORGET_CHUNK):
        session.execute(delete(SeenPlate).where(
            SeenPlate.plate.in_(ordered[start:start + FORGET_CHUNK]),
            ~exists().where(PlateRead.plate == SeenPlate.plate)))


class PlateReadPurger:
    """Plate reads that matched no hotlist. On PostgreSQL a whole expired month holding no read to keep is
    detached and dropped (rtcc.alpr.partitions) instead of deleted row by row, unless a hold may keep a read."""

    data_class = "plate_reads"

    def bulk(self, session: Session, *, runtime: Runtime, cutoff: datetime, holds: HoldSet) -> list[dict]:
        """PostgreSQL's whole-partition drop; the breakdown lines of what it dropped."""
        if session.get_bind().dialect.name != "postgresql":
            return []
        if holds.touches_plate_reads:
            # A hold may keep any read: put back what an earlier run detached, and purge row by row.
            for name in partitions.expired_tables(session):
                session.execute(text(f"INSERT INTO plate_reads SELECT * FROM {name}"))
                session.execute(text(f"DROP TABLE {name}"))
            return []
        session.commit()  # detaching takes short transactions of its own, which would wait for our locks
        partitions.detach_purgeable_partitions(session.get_bind(), cutoff=cutoff)
        lines: list[dict] = []
        gone: set[str] = set()
        dropped = []
        for name in partitions.expired_tables(session):
            # A read matched after the partition was checked (a late read matched as it landed) goes back into
            # plate_reads (the default partition takes it, its month being gone) rather than with the partition.
            session.execute(text(f"INSERT INTO plate_reads SELECT * FROM {name} "
                                 f"WHERE matched OR id IN (SELECT read_id FROM plate_alerts)"))
            rows = session.execute(text(
                f"SELECT camera_id, count(*), min(read_at), max(read_at) FROM {name} "
                f"WHERE NOT matched AND id NOT IN (SELECT read_id FROM plate_alerts) GROUP BY camera_id")).all()
            lines.extend({"camera_id": camera_id, "reason": "unmatched_reads", "count": count, "bytes": 0,
                          "first": first, "last": last, "partition": name} for camera_id, count, first, last in rows)
            gone.update(session.execute(text(f"SELECT DISTINCT plate FROM {name}")).scalars())
            session.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
        forget_plates(session, gone)
        return lines

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        cutoff = now - policy.keep_for
        statement = select(PlateRead.id, PlateRead.plate, PlateRead.camera_id, PlateRead.read_at, PlateRead.crop_path).where(
            PlateRead.read_at < cutoff, PlateRead.matched.is_(False), PlateRead.id.not_in(select(PlateAlert.read_id)),
        ).order_by(PlateRead.read_at)
        for read_id, plate, camera_id, read_at, crop in session.execute(statement):
            yield Item(key=f"read:{read_id}", at=read_at, until=read_at, reason="unmatched_reads", camera_id=camera_id,
                       plate=plate, ref=(read_id, crop),
                       bytes=_file_size(runtime.settings.data_dir / crop) if crop else 0)

    def remove(self, session, *, runtime, policy, items) -> None:
        ids = [item.ref[0] for item in items]
        session.execute(delete(PlateRead).where(PlateRead.id.in_(ids), PlateRead.matched.is_(False),
                                                PlateRead.id.not_in(select(PlateAlert.read_id))))
        for item in items:
            if item.ref[1]:
                _unlink(runtime.settings.data_dir / item.ref[1])
        forget_plates(session, {item.plate for item in items})


class PlateHitPurger:
    """Hits and their alerts: delete the alert with its read, or reduce (keep the hit, drop the crop image)."""

    data_class = "plate_hits"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        statement = select(PlateAlert.id, PlateRead.id, PlateRead.plate, PlateRead.camera_id, PlateRead.read_at,
                           PlateRead.crop_path).join(PlateRead, PlateRead.id == PlateAlert.read_id).where(
            PlateAlert.created_at < now - policy.keep_for).order_by(PlateAlert.created_at)
        if policy.action == REDUCE:
            statement = statement.where(PlateRead.crop_path.is_not(None))
        for alert_id, read_id, plate, camera_id, read_at, crop in session.execute(statement):
            yield Item(key=f"alert:{alert_id}", at=read_at, until=read_at, camera_id=camera_id, plate=plate,
                       reason="crop_dropped" if policy.action == REDUCE else "hit_deleted", ref=(alert_id, read_id, crop),
                       bytes=_file_size(runtime.settings.data_dir / crop) if crop else 0)

    def remove(self, session, *, runtime, policy, items) -> None:
        read_ids = {item.ref[1] for item in items}
        for item in items:
            if item.ref[2]:
                _unlink(runtime.settings.data_dir / item.ref[2])
        if policy.action == REDUCE:
            session.execute(PlateRead.__table__.update().where(PlateRead.id.in_(read_ids)).values(crop_path=None))
            return
        session.execute(delete(PlateAlert).where(PlateAlert.id.in_([item.ref[0] for item in items])))
        session.execute(delete(PlateRead).where(PlateRead.id.in_(read_ids), PlateRead.id.not_in(select(PlateAlert.read_id))))
        forget_plates(session, {item.plate for item in items})


def _segment_item(segment: RecordingSegment, reason: str) -> Item:
    return Item(key=f"segment:{segment.id}", at=segment.started_at, until=segment.ended_at, bytes=segment.bytes,
                reason=reason, camera_id=segment.camera_id, ref=(segment.id, segment.path))


def _exported_windows(session: Session) -> list[tuple[int, datetime, datetime]]:
    """Every evidence export's footage stays as long as the export (it is not a hold: it has its own class)."""
    return [(e.camera_id, e.starts_at, e.ends_at) for e in session.execute(select(EvidenceExport)).scalars()]


def _inside(segment: RecordingSegment, windows: list[tuple[int | None, datetime, datetime]]) -> bool:
    return any((camera is None or camera == segment.camera_id) and segment.started_at < end and segment.ended_at > start
               for camera, start, end in windows)


class _SegmentRemoval:
    def remove(self, session, *, runtime, policy, items) -> None:
        from rtcc.video.pipeline.supervisor import media_store

        store = media_store(runtime)
        for item in items:
            _unlink(store.absolute(item.ref[1]))
        session.execute(delete(RecordingSegment).where(RecordingSegment.id.in_([item.ref[0] for item in items])))


class ContinuousVideoPurger(_SegmentRemoval):
    """Video of continuously recorded cameras past its age (a camera may keep less than the policy), then, over
    the disk quota, the oldest video of any camera that neither an export nor a hold keeps."""

    data_class = "continuous_video"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        exported = _exported_windows(session)
        event_cameras = set(session.execute(select(Camera.id).where(Camera.record_mode == "events")).scalars())
        shorter = dict(session.execute(select(Camera.id, Camera.retention_days).where(Camera.retention_days.is_not(None))).all())
        chosen: set[int] = set()
        shortest = min([policy.keep_for, *(timedelta(days=days) for days in shorter.values())])
        statement = select(RecordingSegment).where(RecordingSegment.ended_at < now - shortest)
        for segment in session.execute(statement.order_by(RecordingSegment.ended_at)).scalars():
            keep_for = min(policy.keep_for, timedelta(days=shorter[segment.camera_id])) if segment.camera_id in shorter \
                else policy.keep_for
            if segment.camera_id not in event_cameras and segment.ended_at < now - keep_for and not _inside(segment, exported):
                chosen.add(segment.id)
                yield _segment_item(segment, "max_age")
        quota = int(runtime.settings.video_disk_quota_gb * 1024**3)
        if quota <= 0:
            return
        freed = sum(s.bytes for s in session.execute(select(RecordingSegment).where(RecordingSegment.id.in_(chosen))).scalars()) \
            if chosen else 0
        used = (session.execute(select(func.coalesce(func.sum(RecordingSegment.bytes), 0))).scalar_one() or 0) - freed
        for segment in session.execute(select(RecordingSegment).order_by(RecordingSegment.started_at)).scalars():
            if used <= quota:
                return
            if segment.id in chosen or _inside(segment, exported):
                continue
            item = _segment_item(segment, "disk_quota")
            if not holds.covering(item):
                used -= segment.bytes
            yield item


class EventClipPurger(_SegmentRemoval):
    """Event-only cameras: video outside every mark's pre/post roll goes once the buffer passed; the clips
    around marks go when the policy's keep-for passed."""

    data_class = "event_clips"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        settings = runtime.settings
        event_cameras = list(session.execute(select(Camera.id).where(Camera.record_mode == "events")).scalars())
        if not event_cameras:
            return
        exported = _exported_windows(session)
        pre, post = timedelta(seconds=settings.event_pre_roll_seconds), timedelta(seconds=settings.event_post_roll_seconds)
        marks = [(mark.camera_id, mark.at - pre, mark.at + post) for mark in session.execute(
            select(RecordingMark).where(RecordingMark.camera_id.in_(event_cameras))).scalars()]
        statement = select(RecordingSegment).where(
            RecordingSegment.camera_id.in_(event_cameras),
            RecordingSegment.ended_at < now - timedelta(seconds=settings.event_buffer_seconds),
        ).order_by(RecordingSegment.started_at)
        for segment in session.execute(statement).scalars():
            if _inside(segment, exported):
                continue
            if not _inside(segment, marks):
                yield _segment_item(segment, "event_only")
            elif segment.ended_at < now - policy.keep_for:
                yield _segment_item(segment, "max_age")


def case_clock(item: Item, closed: dict[str, datetime], *, policy: PolicyInForce, now: datetime,
               not_before: datetime | None = None) -> Item | None:
    """Clock case_closed: an item of an open (or unregistered) case is kept, and said so; one of a closed case
    goes keep-for after the close (or after not_before, as a link's end, when that is later); None: not yet."""
    closed_at = closed.get(item.case_number)
    if closed_at is None:
        return replace(item, kept_because=CASE_OPEN)
    started = max(closed_at, not_before) if not_before is not None else closed_at
    return item if started + policy.keep_for <= now else None


class ExportedEvidencePurger:
    """Evidence exports (their bags) past the policy's keep-for, from their making or (clock case_closed) from
    their case's close; their footage is then no longer protected."""

    data_class = "exported_evidence"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        root = exports_root(runtime)
        by_case = policy.clock == CASE_CLOSED
        closed = closed_cases(session) if by_case else {}
        statement = select(EvidenceExport).order_by(EvidenceExport.created_at)
        if not by_case:
            statement = statement.where(EvidenceExport.created_at < now - policy.keep_for)
        for export in session.execute(statement).scalars():
            item = Item(key=f"export:{export.id}", at=export.starts_at, until=export.ends_at, reason="expired",
                        camera_id=export.camera_id, case_number=export.case_number, ref=(export.id, export.path))
            if by_case:
                item = case_clock(item, closed, policy=policy, now=now)
                if item is None:
                    continue
            if not item.kept_because:
                path = root / export.path
                item.bytes = sum(_file_size(p) for p in path.rglob("*")) if path.is_dir() else _file_size(path)
            yield item

    def remove(self, session, *, runtime, policy, items) -> None:
        root = exports_root(runtime)
        for item in items:
            path = root / item.ref[1]
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                _unlink(path)
        session.execute(delete(EvidenceExport).where(EvidenceExport.id.in_([item.ref[0] for item in items])))


def share_item(share: FieldShare) -> Item:
    """A field link's frozen copy as a purgeable item: the time it shows, its camera, case and incident."""
    at = share.starts_at or share.at or share.created_at
    return Item(key=f"share:{share.id}", at=at, until=share.ends_at or at, bytes=share.media_bytes or 0,
                reason="link_ended", camera_id=share.camera_id, case_number=share.case_number,
                incident_id=share.incident_id, ref=share.id)


def share_media_is_held(session: Session, share: FieldShare) -> bool:
    """Whether retention keeps this share's frozen copy past its link's end (sharing asks when a link ends): an
    open legal hold covers it, or the class's clock is case_closed (the engine takes it keep-for after the close)."""
    from rtcc.governance.retention.service import policy_in_force

    if hold_set(session).covering(share_item(share)):
        return True
    return policy_in_force(session, "field_share_media").clock == CASE_CLOSED


class FieldShareMediaPurger:
    """The frozen copies of field links, once the link expired or was revoked (plus the policy's keep-for; under
    clock case_closed, from the later of the link's end and its case's close)."""

    data_class = "field_share_media"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        by_case = policy.clock == CASE_CLOSED
        closed = closed_cases(session) if by_case else {}
        shares = session.execute(select(FieldShare).where(
            FieldShare.media_path.is_not(None), FieldShare.media_deleted_at.is_(None)).order_by(FieldShare.id)).scalars()
        for share in shares:
            ended = min(moment for moment in (share.expires_at, share.revoked_at) if moment is not None)
            if by_case:
                item = case_clock(share_item(share), closed, policy=policy, now=now, not_before=ended)
                if item is not None:
                    yield item
            elif ended + policy.keep_for <= now:
                yield share_item(share)

    def remove(self, session, *, runtime, policy, items) -> None:
        for item in items:
            delete_media(runtime, session.get(FieldShare, item.ref))


class IncidentPurger:
    """Closed incidents (their timelines and docked cameras with them) past keep-for from their close."""

    data_class = "incidents"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        for incident in session.execute(select(Incident).where(
                Incident.closed_at.is_not(None), Incident.closed_at < now - policy.keep_for).order_by(Incident.closed_at)).scalars():
            yield Item(key=f"incident:{incident.id}", at=incident.opened_at, until=incident.closed_at, reason="closed",
                       incident_id=incident.id, ref=incident.id)

    def remove(self, session, *, runtime, policy, items) -> None:
        session.execute(delete(Incident).where(Incident.id.in_([item.ref for item in items])))


class AuditRecordPurger:
    """The audit trail is an append-only signed hash chain (the database refuses DELETE): its policy sets how
    long it is kept at least (never under the CJIS year); nothing is deleted from it here."""

    data_class = "audit_records"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        return iter(())

    def remove(self, session, *, runtime, policy, items) -> None:
        raise AssertionError("audit records are never purged")


class NoDataYet:
    """A class whose capability is yet to come: it has a policy, and reports 0 until its purger registers."""

    def __init__(self, data_class: str):
        self.data_class = data_class

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        return iter(())

    def remove(self, session, *, runtime, policy, items) -> None:
        raise AssertionError(f"{self.data_class} has no data to remove")


for _purger in (PlateReadPurger(), PlateHitPurger(), ContinuousVideoPurger(), EventClipPurger(), ExportedEvidencePurger(),
                FieldShareMediaPurger(), IncidentPurger(), AuditRecordPurger(), NoDataYet("uploaded_footage"),
                NoDataYet("community_footage"), NoDataYet("drone_video"), NoDataYet("body_worn_video")):
    register(_purger)


def upload_exists(session: Session, upload_id: str | None) -> bool:
    """Whether a community upload exists: none can until the community capability registers its purger."""
    purger = PURGERS.get("community_footage")
    check = getattr(purger, "exists", None)
    return bool(check and upload_id and check(session, upload_id))
