"""Video retention: delete what is past its age or over the disk quota, never what a hold or export protects."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.cameras.models import Camera
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import Runtime
from rtcc.video.models import DeletionReceipt, EvidenceExport, LegalHold, RecordingMark, RecordingSegment
from rtcc.video.recording.storage import SegmentStore

log = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class Protection:
    """A time range of a camera (or of every camera) that must be kept."""

    camera_id: int | None
    starts_at: datetime
    ends_at: datetime

    def covers(self, segment: RecordingSegment) -> bool:
        return (self.camera_id is None or self.camera_id == segment.camera_id) and \
            segment.started_at < self.ends_at and segment.ended_at > self.starts_at


def protections(session: Session) -> list[Protection]:
    """Active legal holds and every evidence export: their footage stays."""
    holds = session.execute(select(LegalHold).where(LegalHold.released_at.is_(None))).scalars()
    exports = session.execute(select(EvidenceExport)).scalars()
    return [Protection(h.camera_id, h.starts_at, h.ends_at) for h in holds] + \
           [Protection(e.camera_id, e.starts_at, e.ends_at) for e in exports]


def is_protected(segment: RecordingSegment, kept: list[Protection]) -> bool:
    return any(protection.covers(segment) for protection in kept)


def _expired(session: Session, *, runtime: Runtime, now: datetime):
    """Segments older than their camera's maximum age, oldest first."""
    default_days = runtime.settings.retention_days
    overrides = dict(session.execute(select(Camera.id, Camera.retention_days).where(Camera.retention_days.is_not(None))).all())
    oldest_allowed = now - timedelta(days=min([default_days, *overrides.values()]))
    statement = select(RecordingSegment).where(RecordingSegment.ended_at < oldest_allowed).order_by(RecordingSegment.ended_at)
    for segment in session.execute(statement.execution_options(yield_per=BATCH)).scalars():
        days = overrides.get(segment.camera_id, default_days)
        if segment.ended_at < now - timedelta(days=days):
            yield segment


def _over_quota(session: Session, *, quota_bytes: int, already_freed: int, kept: list[Protection]):
    """Oldest unprotected segments until the recordings fit the quota."""
    used = (session.execute(select(func.coalesce(func.sum(RecordingSegment.bytes), 0))).scalar_one() or 0) - already_freed
    if used <= quota_bytes:
        return
    statement = select(RecordingSegment).order_by(RecordingSegment.started_at)
    for segment in session.execute(statement.execution_options(yield_per=BATCH)).scalars():
        if used <= quota_bytes:
            return
        if not is_protected(segment, kept):
            used -= segment.bytes
            yield segment


def _unmarked_event_video(session: Session, *, runtime: Runtime, now: datetime, kept: list[Protection]):
    """Segments of event-only cameras that lie outside every mark's pre/post roll, once the buffer passed."""
    settings = runtime.settings
    event_cameras = list(session.execute(select(Camera.id).where(Camera.record_mode == "events")).scalars())
    if not event_cameras:
        return
    pre, post = timedelta(seconds=settings.event_pre_roll_seconds), timedelta(seconds=settings.event_post_roll_seconds)
    marks = [Protection(mark.camera_id, mark.at - pre, mark.at + post) for mark in session.execute(
        select(RecordingMark).where(RecordingMark.camera_id.in_(event_cameras))).scalars()]
    statement = select(RecordingSegment).where(
        RecordingSegment.camera_id.in_(event_cameras),
        RecordingSegment.ended_at < now - timedelta(seconds=settings.event_buffer_seconds),
    ).order_by(RecordingSegment.started_at)
    for segment in session.execute(statement.execution_options(yield_per=BATCH)).scalars():
        if not is_protected(segment, marks) and not is_protected(segment, kept):
            yield segment


def purge_recordings(session: Session, *, runtime: Runtime, store: SegmentStore) -> list[DeletionReceipt]:
    """Delete expired, unmarked event-only and over-quota segments; one receipt per camera and reason."""
    now = clock.utcnow()
    kept = protections(session)
    doomed: dict[tuple[int, str], list[RecordingSegment]] = defaultdict(list)
    chosen: set[int] = set()
    for segment in _expired(session, runtime=runtime, now=now):
        if not is_protected(segment, kept):
            doomed[(segment.camera_id, "max_age")].append(segment)
            chosen.add(segment.id)
    for segment in _unmarked_event_video(session, runtime=runtime, now=now, kept=kept):
        if segment.id not in chosen:
            doomed[(segment.camera_id, "event_only")].append(segment)
            chosen.add(segment.id)
    quota_bytes = int(runtime.settings.video_disk_quota_gb * 1024**3)
    if quota_bytes > 0:
        freed = sum(s.bytes for group in doomed.values() for s in group)
        for segment in _over_quota(session, quota_bytes=quota_bytes, already_freed=freed, kept=kept):
            if segment.id not in chosen:
                doomed[(segment.camera_id, "disk_quota")].append(segment)
    receipts = []
    for (camera_id, reason), segments in sorted(doomed.items()):
        for segment in segments:
            try:
                store.absolute(segment.path).unlink(missing_ok=True)
            except OSError as error:  # the file stays indexed, and is tried again next sweep
                log.error("could not delete %s: %s", segment.path, error)
                continue
            session.delete(segment)
        receipt = DeletionReceipt(
            camera_id=camera_id, range_start=min(s.started_at for s in segments), range_end=max(s.ended_at for s in segments),
            segment_count=len(segments), bytes=sum(s.bytes for s in segments), reason=reason, created_at=now,
        )
        session.add(receipt)
        receipts.append(receipt)
    if receipts:
        session.flush()
        audit.record(session, keys=runtime.keys, actor=SYSTEM, action="video.purge", object_type="recording",
                     details={"receipts": [r.id for r in receipts], "segments": sum(r.segment_count for r in receipts),
                              "bytes": sum(r.bytes for r in receipts), "protected_ranges": len(kept)})
    return receipts
