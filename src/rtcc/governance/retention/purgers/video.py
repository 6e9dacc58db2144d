"""Recorded video (continuous and event clips) and exported evidence."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcc.cameras.models import Camera
from rtcc.governance.retention.cases import closed_cases
from rtcc.governance.retention.data_classes import CASE_CLOSED
from rtcc.governance.retention.holds import Item
from rtcc.governance.retention.purgers.base import (
    _file_size,
    _unlink,
    case_clock,
)
from rtcc.video.evidence.export import exports_root
from rtcc.video.models import EvidenceExport, RecordingMark, RecordingSegment

log = logging.getLogger(__name__)


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
