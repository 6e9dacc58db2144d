"""A vehicle pass's crop at the main stream's resolution, cut from the camera's own recording.

Plates are read on the sub-stream (640x360 by default), so the crop saved with a read holds what a 640-pixel
picture holds. The recorder keeps the main stream (1280x720 and up) on disk. Once the segment covering the pass's
best sighting is indexed, the frame recorded at that instant is decoded and the area around the plate (the box
scaled up and widened by its own size: the two streams' clocks differ by a fraction of a second, and the car
moves) is read again. Only when the reader finds the same plate there is the sharper crop saved and the read
pointed at it; otherwise the sub-stream crop stays. A crop is evidence an analyst verifies an alert against, so
a wrong crop is worse than a small one. Privacy masks are already burnt into the recording.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import update

from rtcc.alpr.models import PlateRead
from rtcc.alpr.video.passes import crop_around, edit_distance, write_crop
from rtcc.core.errors import RTCCError
from rtcc.core.runtime import Runtime
from rtcc.video.recording.playback import segments_between, snapshot_jpeg
from rtcc.video.pipeline.recording_supervisor import media_store

log = logging.getLogger(__name__)

# Instants tried around the best sighting: the sub-stream's arrival time and the recording's clock disagree.
OFFSETS_S = (0.0, -0.5, 0.5)
SEARCH_MARGIN = 1.5  # the area re-read: the scaled box widened by this many box widths / heights on each side


@dataclass
class PassToSharpen:
    """What a stored read needs for its main-stream crop."""

    camera_id: int
    plate: str
    read_at: datetime  # the read's time: also the best sighting's (VehiclePass.best_seen)
    box: tuple[int, int, int, int]  # in the sub-stream frame
    frame_size: tuple[int, int]  # the width and height the sub-stream was decoded at
    crop_path: str  # the sub-stream crop it replaces, relative to DATA_DIR


def recording_covering(runtime: Runtime, job: PassToSharpen) -> list:
    """The indexed segments around the read once one covers it (segments are indexed as they close), else []."""
    with runtime.database.read_session() as db:
        segments = segments_between(db, camera_id=job.camera_id, start=job.read_at - timedelta(seconds=2),
                                    end=job.read_at + timedelta(seconds=2))
        db.expunge_all()
    last_instant = job.read_at + timedelta(seconds=max(OFFSETS_S))
    return segments if any(s.started_at <= last_instant <= s.ended_at for s in segments) else []


def cut_sharper_crop(runtime: Runtime, read_plates, job: PassToSharpen, segments: list) -> str | None:
    """Cut the main-stream crop from the recording and point the read at it.

    `read_plates(pixels)` returns PlateReads for a BGR picture (the worker's reader). The new crop's path
    (relative to DATA_DIR), or None when the recording is no larger or does not confirm the plate.
    """
    store = media_store(runtime)
    for offset in OFFSETS_S:
        try:
            jpeg = snapshot_jpeg(store, segments, job.read_at + timedelta(seconds=offset), ffmpeg=runtime.settings.ffmpeg_path)
        except RTCCError:
            continue
        frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if frame is None or frame.shape[1] <= job.frame_size[0]:
            return None  # the recording is no larger than what was read: nothing to gain
        box = _confirmed_box(frame, job, read_plates)
        if box is not None:
            return _save_and_point(runtime, job, crop_around(frame, box))
    return None


def _confirmed_box(frame: np.ndarray, job: PassToSharpen, read_plates) -> tuple[int, int, int, int] | None:
    """The plate's box in the main-stream frame, if the reader finds the same plate near where it was."""
    scale_x, scale_y = frame.shape[1] / job.frame_size[0], frame.shape[0] / job.frame_size[1]
    x, y, width, height = job.box
    x, y, width, height = x * scale_x, y * scale_y, width * scale_x, height * scale_y
    left, top = max(0, int(x - SEARCH_MARGIN * width)), max(0, int(y - SEARCH_MARGIN * height))
    right = min(frame.shape[1], int(x + width + SEARCH_MARGIN * width))
    bottom = min(frame.shape[0], int(y + height + SEARCH_MARGIN * height))
    if right - left < 8 or bottom - top < 8:
        return None
    for read in read_plates(frame[top:bottom, left:right]):
        # The same plate, or one character off (the vote over the pass may have settled a character this frame misses).
        if len(read.plate) == len(job.plate) and edit_distance(read.plate, job.plate) <= 1:
            read_x, read_y, read_width, read_height = read.box
            return int(left + read_x), int(top + read_y), int(read_width), int(read_height)
    return None


def _save_and_point(runtime: Runtime, job: PassToSharpen, crop: np.ndarray) -> str | None:
    relative = Path(job.crop_path).with_name(Path(job.crop_path).stem + "_main.jpg")
    if not write_crop(runtime.settings.data_dir / relative, crop):
        return None
    with runtime.database.session() as db:
        # The sub-stream crop file stays where it was: an alert already raised may have shown it.
        db.execute(update(PlateRead).where(
            PlateRead.source == "reader", PlateRead.camera_id == job.camera_id, PlateRead.read_at == job.read_at,
            PlateRead.plate == job.plate, PlateRead.crop_path == job.crop_path).values(crop_path=relative.as_posix()))
    return relative.as_posix()
