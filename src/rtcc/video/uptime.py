"""How much of the time each camera actually recorded: uptime over 24 h, 7 d and 30 d, and the city's figure."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.cameras.models import Camera
from rtcc.core import clock
from rtcc.video.models import RecordingSegment

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
WORKING_STATES = ("recording",)


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


def uptime_by_camera(session: Session, *, cameras: list[Camera], now: datetime | None = None) -> dict[int, dict[str, float]]:
    """Per camera and window: recorded time as a percentage of the window (or of the camera's life, if shorter)."""
    now = now or clock.utcnow()
    ids = [camera.id for camera in cameras]
    result: dict[int, dict[str, float]] = {camera_id: {} for camera_id in ids}
    for label, window in WINDOWS.items():
        seconds = recorded_seconds(session, since=now - window, camera_ids=ids)
        for camera in cameras:
            span = min(window, now - camera.created_at).total_seconds()
            result[camera.id][label] = round(min(100.0, 100 * seconds.get(camera.id, 0.0) / span), 1) if span > 0 else 0.0
    return result


def streaming_cameras(cameras: list[Camera]) -> list[Camera]:
    """Cameras that should deliver video (private_registered ones share none)."""
    return [camera for camera in cameras if camera.main_stream_url and camera.kind != "private_registered"]
