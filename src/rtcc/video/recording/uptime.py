"""The recording index's facts for the camera health board: recorded seconds and each camera's newest segment.

The board itself (uptime arithmetic, lag, the 'cameras working' figure) lives in cameras/health.py; its
names stay importable from here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.cameras.health import WINDOWS, WORKING_STATES, streaming_cameras, uptime_by_camera
from rtcc.video.models import RecordingSegment

__all__ = ["WINDOWS", "WORKING_STATES", "SegmentIndexFacts", "recorded_seconds", "streaming_cameras", "uptime_by_camera"]


def recorded_seconds(session: Session, *, since: datetime, camera_ids: list[int]) -> dict[int, float]:
    """Seconds of video indexed per camera since a time (segments overlap nothing, so durations add up)."""
    if not camera_ids:
        return {}
    rows = session.execute(
        select(RecordingSegment.camera_id, func.sum(RecordingSegment.duration_s))
        .where(RecordingSegment.ended_at > since, RecordingSegment.camera_id.in_(camera_ids))
        .group_by(RecordingSegment.camera_id)
    ).all()
    return {camera_id: float(seconds or 0) for camera_id, seconds in rows}


def newest_segment_ends(session: Session, *, camera_ids: list[int]) -> dict[int, datetime]:
    """End of each camera's newest indexed segment: how far the index has got."""
    if not camera_ids:
        return {}
    rows = session.execute(
        select(RecordingSegment.camera_id, func.max(RecordingSegment.ended_at))
        .where(RecordingSegment.camera_id.in_(camera_ids))
        .group_by(RecordingSegment.camera_id)
    ).all()
    return {camera_id: ended for camera_id, ended in rows if ended is not None}


class SegmentIndexFacts:
    """cameras.health.RecordingFacts read from the recording_segments table."""

    def recorded_seconds(self, session: Session, *, since: datetime, camera_ids: list[int]) -> dict[int, float]:
        return recorded_seconds(session, since=since, camera_ids=camera_ids)

    def newest_segment_ends(self, session: Session, *, camera_ids: list[int]) -> dict[int, datetime]:
        return newest_segment_ends(session, camera_ids=camera_ids)

