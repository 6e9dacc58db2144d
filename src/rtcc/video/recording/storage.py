"""Where recordings live on disk: DATA_DIR/media/cam<id>/<UTC date>/<time>_<session>_<n>.mp4."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from rtcc.core import clock
from rtcc.video.fmp4 import (
    MAX_BOX_BYTES,
    Fmp4Error,
    InitSegment,
    MediaFragment,
    VideoTrack,
    find_box,
    fragment_decode_span,
    iter_boxes,
    video_only_init,
)

log = logging.getLogger(__name__)
INCOMING = "incoming"  # segments being written by ffmpeg, before they are indexed


@dataclass(frozen=True)
class ClosedSegment:
    """A finished segment, moved to its place and hashed, ready to index."""

    camera_id: int
    path: str  # relative to the media root
    started_at: datetime
    ended_at: datetime
    duration_s: float
    bytes: int
    sha256: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def media_duration_s(path: Path) -> float:
    """Seconds of video in a fragmented-MP4 segment, read from its boxes (0.0: no fragment of video in it).

    No ffprobe: only the header and each fragment's moof are read, media data is skipped. A segment cut short
    by a full disk or a crash counts its last fragment whole once any of that fragment's media data is there,
    as ffprobe did.
    """
    moov, moofs = None, []
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            position = 0
            while position + 8 <= size:
                handle.seek(position)
                header = handle.read(16)
                box_size, box_type = struct.unpack_from(">I4s", header)
                header_size = 8
                if box_size == 1:
                    if len(header) < 16:
                        break
                    box_size, header_size = struct.unpack_from(">Q", header, 8)[0], 16
                elif box_size == 0:
                    box_size = size - position  # the last box runs to the end of the file
                if box_size < header_size:
                    break
                if box_type == b"mdat" and moofs and moofs[-1][1] is None and position + header_size < size:
                    moofs[-1] = (moofs[-1][0], position)  # this fragment has media data (some, at least)
                elif box_type in (b"moov", b"moof"):
                    if position + box_size > size or box_size > MAX_BOX_BYTES:
                        break  # cut short inside a header: what came before is what plays
                    handle.seek(position)
                    box = handle.read(box_size)
                    if box_type == b"moov":
                        moov = box
                    else:
                        moofs.append((box, None))
                position += box_size
    except OSError:
        return 0.0
    if moov is None:
        return 0.0
    init = InitSegment(moov, codec="")
    try:
        _, track = video_only_init(init)
        timescale = video_timescale(init, track)
        spans = [span for moof, media_at in moofs if media_at is not None
                 and (span := fragment_decode_span(MediaFragment(moof, keyframe=False, sequence=0), track)) is not None]
    except (Fmp4Error, struct.error):
        return 0.0
    if not moofs:
        return _declared_duration_s(init)  # a progressive MP4 (not ours) says its length in mvhd
    if not spans or not timescale:
        return 0.0
    return max(0.0, (spans[-1][1] - spans[0][0]) / timescale)


def _declared_duration_s(init: InitSegment) -> float:
    mvhd = find_box(init.data, [b"moov", b"mvhd"])
    if mvhd is None:
        return 0.0
    if init.data[mvhd[0]] == 1:
        timescale, duration = struct.unpack_from(">IQ", init.data, mvhd[0] + 20)
    else:
        timescale, duration = struct.unpack_from(">II", init.data, mvhd[0] + 12)
    return duration / timescale if timescale else 0.0


def video_timescale(init: InitSegment, track: VideoTrack) -> int | None:
    """Ticks per second of the video track (its mdhd), which fragment decode times count in."""
    moov = find_box(init.data, [b"moov"])
    if moov is None:
        return None
    for box_type, payload, box_end in iter_boxes(init.data, *moov):
        if box_type != b"trak":
            continue
        tkhd = find_box(init.data, [b"tkhd"], payload, box_end)
        mdhd = find_box(init.data, [b"mdia", b"mdhd"], payload, box_end)
        if tkhd is None or mdhd is None:
            continue
        version = init.data[tkhd[0]]
        if struct.unpack_from(">I", init.data, tkhd[0] + (20 if version == 1 else 12))[0] != track.track_id:
            continue
        # mdhd: version and flags, creation and modification times (8 bytes each in version 1), then the timescale.
        return struct.unpack_from(">I", init.data, mdhd[0] + (20 if init.data[mdhd[0]] == 1 else 12))[0]
    return None


class RecordingSession:
    """One ffmpeg run for one camera: reads its segment list and hands over segments as they close."""

    def __init__(self, store: "SegmentStore", camera_id: int):
        self.store = store
        self.camera_id = camera_id
        self.name = clock.utcnow().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.incoming = store.camera_dir(camera_id) / INCOMING
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.pattern = self.incoming / f"{self.name}_%06d.mp4"
        self.segment_list = self.incoming / f"{self.name}.csv"
        self._lines_read = 0
        self._anchor: datetime | None = None  # wall-clock time of the session's stream time 0
        self._last_end_s = 0.0
        self._last_size = -1
        self._list_size = -1

    def _listed(self) -> list[tuple[str, float, float]]:
        try:
            lines = self.segment_list.read_text().splitlines()
        except FileNotFoundError:
            return []
        complete = lines[self._lines_read:]
        entries = []
        for line in complete:
            parts = line.rsplit(",", 2)
            if len(parts) != 3:
                break  # a line still being written
            try:
                entries.append((parts[0], float(parts[1]), float(parts[2])))
            except ValueError:
                break
            self._lines_read += 1
        return entries

    def collect_closed(self, final: bool = False) -> list[ClosedSegment]:
        """Segments ffmpeg has finished (all remaining ones when `final`, after ffmpeg exited)."""
        now = clock.utcnow()
        closed = []
        for file_name, start_s, end_s in self._listed():
            if self._anchor is None:
                self._anchor = now - timedelta(seconds=end_s)
            closed.append(self._finish(self.incoming / file_name, self._anchor + timedelta(seconds=start_s),
                                       end_s - start_s))
            self._last_end_s = end_s
        if final:
            for leftover in sorted(self.incoming.glob(f"{self.name}_*.mp4")):
                duration = media_duration_s(leftover)
                if duration <= 0:
                    leftover.unlink(missing_ok=True)  # no video in it: nothing was lost
                    continue
                start = self._anchor + timedelta(seconds=self._last_end_s) if self._anchor else now - timedelta(seconds=duration)
                closed.append(self._finish(leftover, start, duration))
                self._last_end_s += duration
            self.segment_list.unlink(missing_ok=True)
        return [segment for segment in closed if segment is not None]

    def segment_list_changed(self) -> bool:
        """Whether ffmpeg wrote to the segment list since last asked: one stat, so a recorder may ask every poll."""
        try:
            size = self.segment_list.stat().st_size
        except FileNotFoundError:
            size = 0
        changed, self._list_size = size != self._list_size, size
        return changed

    def has_open_segment_growing(self) -> bool:
        """Whether ffmpeg is still writing video (the open segment grew since last asked)."""
        prefix = f"{self.name}_"
        size = 0
        with os.scandir(self.incoming) as entries:  # a scan, not a glob: this runs every poll of every recorder
            for entry in entries:
                if entry.name.startswith(prefix) and entry.name.endswith(".mp4"):
                    with contextlib.suppress(FileNotFoundError):  # moved away by collect_closed meanwhile
                        size += entry.stat().st_size
        growing = size != self._last_size and size > 0
        self._last_size = size
        return growing

    def _finish(self, source: Path, started_at: datetime, duration_s: float) -> ClosedSegment | None:
        return self.store.place(self.camera_id, source, started_at, duration_s)


class SegmentStore:
    """The media root of a data dir."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def camera_dir(self, camera_id: int) -> Path:
        return self.root / f"cam{camera_id}"

    def new_session(self, camera_id: int) -> RecordingSession:
        return RecordingSession(self, camera_id)

    def place(self, camera_id: int, source: Path, started_at: datetime, duration_s: float) -> ClosedSegment | None:
        """Move a finished segment file to its day folder and hash it (None when the file is gone)."""
        if not source.exists():
            return None
        started_at = started_at.replace(microsecond=started_at.microsecond - started_at.microsecond % 1000)
        day = self.camera_dir(camera_id) / started_at.strftime("%Y-%m-%d")
        day.mkdir(exist_ok=True)
        target = day / f"{started_at.strftime('%H%M%S.%f')[:10]}_{source.name}"
        os.replace(source, target)
        return self.describe(camera_id, target, started_at, duration_s)

    def describe(self, camera_id: int, path: Path, started_at: datetime, duration_s: float) -> ClosedSegment:
        """The index entry of a segment file already in its place."""
        return ClosedSegment(
            camera_id=camera_id,
            path=str(path.relative_to(self.root)),
            started_at=started_at,
            ended_at=started_at + timedelta(milliseconds=round(duration_s * 1000)),
            duration_s=round(duration_s, 3),
            bytes=path.stat().st_size,
            sha256=sha256_of(path),
        )

    def absolute(self, relative: str) -> Path:
        """The file for an indexed path; refuses paths that would leave the media root."""
        path = (self.root / relative).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"segment path outside the media root: {relative}")
        return path

    def disk_usage_bytes(self) -> int:
        return sum(entry.stat().st_size for entry in self.root.rglob("*.mp4") if entry.is_file())
