"""The camera health board: status, uptime and recording lag per camera, and the city's 'cameras working' figure.

Cameras may not import video, yet uptime and lag are read from video's index of recorded segments. So
video tells this module how to read them (`provide_recording_facts`, called by video/recording/uptime.py when video
is loaded); everything else here is arithmetic on cameras and those facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from rtcc.cameras.models import Camera
from rtcc.core import clock

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
WORKING_STATES = ("recording",)
RECORDED_MODES = ("continuous", "events")  # event-only cameras record too: retention keeps the video around marks
# The index may trail the camera by one open segment and one being indexed; more than this is falling behind.
LAG_SEGMENTS_ALLOWED = 2
DEGRADED = "degraded"


class RecordingFacts(Protocol):
    """What the health board needs from the recording index (video implements it)."""

    def recorded_seconds(self, session: Session, *, since: datetime, camera_ids: list[int]) -> dict[int, float]:
        """Seconds of video indexed per camera since a time."""
        ...

    def newest_segment_ends(self, session: Session, *, camera_ids: list[int]) -> dict[int, datetime]:
        """End of each camera's newest indexed segment (cameras with none are left out)."""
        ...


class _NothingRecorded:
    """The facts of a process without video: nothing indexed."""

    def recorded_seconds(self, session: Session, *, since: datetime, camera_ids: list[int]) -> dict[int, float]:
        return {}

    def newest_segment_ends(self, session: Session, *, camera_ids: list[int]) -> dict[int, datetime]:
        return {}


_facts: RecordingFacts = _NothingRecorded()


def provide_recording_facts(facts: RecordingFacts) -> None:
    """Where the health board reads the recording index from (video calls this)."""
    global _facts
    _facts = facts


def recording_facts() -> RecordingFacts:
    """The recording index's facts, as provided."""
    return _facts


@dataclass(frozen=True)
class CameraHealth:
    """One camera's line on the board."""

    camera: Camera
    status: str
    status_detail: str | None
    uptime_percent: dict[str, float]
    recording_lag_seconds: float | None


def streaming_cameras(cameras: list[Camera]) -> list[Camera]:
    """Cameras that should deliver video (private_registered ones share none)."""
    return [camera for camera in cameras if camera.main_stream_url and camera.kind != "private_registered"]


def is_recorded(camera: Camera, *, recording_enabled: bool) -> bool:
    """Whether the server records this camera's main stream."""
    return (recording_enabled and camera.record_mode in RECORDED_MODES and camera.kind != "private_registered"
            and bool(camera.main_stream_url))


def uptime_percentages(*, cameras: list[Camera], recorded: dict[str, dict[int, float]], now: datetime) -> dict[int, dict[str, float]]:
    """Per camera and window: recorded seconds as a percentage of the window (or of the camera's life, if shorter)."""
    result: dict[int, dict[str, float]] = {camera.id: {} for camera in cameras}
    for label, window in WINDOWS.items():
        seconds = recorded.get(label, {})
        for camera in cameras:
            span = min(window, now - camera.created_at).total_seconds()
            result[camera.id][label] = round(min(100.0, 100 * seconds.get(camera.id, 0.0) / span), 1) if span > 0 else 0.0
    return result


def uptime_by_camera(session: Session, *, cameras: list[Camera], now: datetime | None = None,
                     facts: RecordingFacts | None = None) -> dict[int, dict[str, float]]:
    """Per camera and window: recorded time as a percentage of the window (or of the camera's life, if shorter)."""
    now = now or clock.utcnow()
    facts = facts or _facts
    ids = [camera.id for camera in cameras]
    recorded = {label: facts.recorded_seconds(session, since=now - window, camera_ids=ids) if ids else {}
                for label, window in WINDOWS.items()}
    return uptime_percentages(cameras=cameras, recorded=recorded, now=now)


def recording_lag_seconds(*, newest_end: datetime | None, recorded: bool, now: datetime) -> float | None:
    """now − end of the newest indexed segment; None for a camera that is not recorded or has nothing indexed."""
    if not recorded or newest_end is None:
        return None
    return round(max(0.0, (now - newest_end).total_seconds()), 1)


def lag_verdict(*, camera: Camera, lag_seconds: float | None, segment_seconds: int,
                now: datetime) -> tuple[str, str | None]:
    """(status, detail) as the board shows it: a working camera whose index trails too far is degraded.

    lag_seconds is None for a camera that is not recorded (it is then judged by its status alone) or, for a
    recorded one, when nothing is indexed yet.
    """
    allowed = LAG_SEGMENTS_ALLOWED * segment_seconds
    working_for = (now - camera.status_changed_at).total_seconds() if camera.status_changed_at else None
    # Just (re)connected: its first segment is not due yet, so older video is no lag of the index.
    if camera.status not in WORKING_STATES or (working_for is not None and working_for <= allowed):
        return camera.status, camera.status_detail
    if lag_seconds is None:
        if working_for is None:
            return camera.status, camera.status_detail
        return DEGRADED, f"nothing indexed in the {working_for:.0f} s it has been recording"
    if lag_seconds <= allowed:
        return camera.status, camera.status_detail
    return DEGRADED, f"recording index is {lag_seconds:.0f} s behind"


def health_board(session: Session, *, cameras: list[Camera], recording_enabled: bool, segment_seconds: int,
                 now: datetime | None = None, facts: RecordingFacts | None = None) -> list[CameraHealth]:
    """Every streaming camera among these: status (degraded when its index trails), uptime and recording lag."""
    now = now or clock.utcnow()
    facts = facts or _facts
    streaming = streaming_cameras(cameras)
    uptime = uptime_by_camera(session, cameras=streaming, now=now, facts=facts)
    recorded_ids = [camera.id for camera in streaming if is_recorded(camera, recording_enabled=recording_enabled)]
    newest = facts.newest_segment_ends(session, camera_ids=recorded_ids) if recorded_ids else {}
    board = []
    for camera in streaming:
        lag = recording_lag_seconds(newest_end=newest.get(camera.id), recorded=camera.id in recorded_ids, now=now)
        status, detail = (lag_verdict(camera=camera, lag_seconds=lag, segment_seconds=segment_seconds, now=now)
                          if camera.id in recorded_ids else (camera.status, camera.status_detail))
        board.append(CameraHealth(camera, status, detail, uptime[camera.id], lag))
    return board
