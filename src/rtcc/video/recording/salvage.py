"""Nothing recorded is lost: segments the database will not take now wait and are retried, and on start every
segment file on disk that the index lacks is salvaged (timed from its own boxes, hashed, indexed) or moved aside
and reported."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import exists, insert, literal, select

from rtcc.core import clock
from rtcc.core.database import run_write
from rtcc.core.runtime import Runtime
from rtcc.video.models import RecordingSegment
from rtcc.video.recording.storage import INCOMING, ClosedSegment, SegmentStore, media_duration_s

log = logging.getLogger(__name__)
UNREADABLE = "unreadable"  # beside incoming/: segment files with no playable video, kept for a person to look at
CAMERA_DIR = re.compile(r"^cam(\d+)$")
DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A placed segment's name starts with its UTC start time, to the millisecond: 142501.250_<session>_<n>.mp4
PLACED_NAME = re.compile(r"^(\d{6}\.\d{3})_")
MEDIA_BOX_SEARCH_BYTES = 1 << 20  # the header (ftyp, moov) of a segment is a few kB; its first fragment follows


@dataclass
class SalvageReport:
    """What the start-up pass found: segments indexed from disk, and files it could not play (moved aside)."""

    salvaged: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # playable, but the database would not take them (kept pending)

    def as_dict(self) -> dict:
        return {"salvaged": len(self.salvaged), "unreadable": len(self.unreadable), "failed": len(self.failed),
                "unreadable_files": self.unreadable[:50]}


class SegmentIndexer:
    """The one way a closed segment reaches the index: with retries, idempotent, and never dropped."""

    def __init__(self, runtime: Runtime, store: SegmentStore):
        self.runtime = runtime
        self.store = store
        self.pending: list[ClosedSegment] = []
        self.indexed = 0
        self.last_salvage: SalvageReport | None = None
        self._lock = threading.Lock()

    def index(self, segment: ClosedSegment) -> bool:
        """Index one segment (once, however often it is offered); kept for retry_pending if the database refuses."""
        try:
            run_write(self.runtime.database, lambda db: _insert_once(db, segment), what=f"segment {segment.path}")
        except Exception:  # the file stays where it is and its entry waits: a later pass indexes it
            log.exception("segment %s of camera %s not indexed yet; kept for retry", segment.path, segment.camera_id)
            with self._lock:
                if segment not in self.pending:
                    self.pending.append(segment)
            self._report_pending()
            return False
        with self._lock:
            self.indexed += 1
        return True

    async def index_async(self, segment: ClosedSegment) -> None:
        """index() off the event loop; never raises, so a busy database never stops a recorder."""
        await asyncio.to_thread(self.index, segment)

    def retry_pending(self) -> int:
        """Try the waiting segments again, oldest first; how many are still waiting."""
        with self._lock:
            waiting, self.pending = self.pending, []
        for number, segment in enumerate(waiting):
            if not self.index(segment):
                with self._lock:  # still busy: the rest keep their place without a try each
                    self.pending.extend(entry for entry in waiting[number + 1:] if entry not in self.pending)
                break
        self._report_pending()
        return len(self.pending)

    def salvage(self) -> SalvageReport:
        """Index every segment file under the media root that the index lacks; move aside the unplayable ones."""
        report = SalvageReport()
        for camera_dir in sorted(self.store.root.iterdir()) if self.store.root.exists() else []:
            match = CAMERA_DIR.match(camera_dir.name)
            if not match or not camera_dir.is_dir():
                continue
            camera_id = int(match.group(1))
            for found in self._orphans(camera_id, camera_dir, report):
                (report.salvaged if self.index(found) else report.failed).append(found.path)
        self.last_salvage = report
        self.runtime.database.write_health.set_report("recording_salvage", report.as_dict())
        if report.salvaged or report.unreadable or report.failed:
            log.warning("recording salvage: %d segments indexed from disk, %d unreadable moved to %s/ (%s), %d waiting",
                        len(report.salvaged), len(report.unreadable), UNREADABLE, ", ".join(report.unreadable[:20]),
                        len(report.failed))
        return report

    # --- inside ---
    def _orphans(self, camera_id: int, camera_dir: Path, report: SalvageReport):
        incoming = camera_dir / INCOMING
        if incoming.is_dir():
            for path in sorted(incoming.glob("*.mp4")):
                duration = media_duration_s(path)
                if duration <= 0:
                    self._set_aside(camera_dir, path, report)
                    continue
                # The file was last written when it closed (or when the recorder died): it ends at its mtime.
                ended = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
                placed = self.store.place(camera_id, path, ended - timedelta(seconds=duration), duration)
                if placed is not None:
                    yield placed
            for listing in incoming.glob("*.csv"):
                if not any(incoming.glob(f"{listing.stem}_*.mp4")):
                    listing.unlink(missing_ok=True)  # its session's segments are all placed now
        # Only the last few days: a crash leaves unindexed files where it was recording, and a month of
        # folders (hundreds of thousands of segments a camera) must not slow every start.
        first_day = (clock.utcnow() - timedelta(days=self.runtime.settings.recording_salvage_days)).strftime("%Y-%m-%d")
        for day in sorted(camera_dir.iterdir()):
            if not DAY_DIR.match(day.name) or day.name < first_day or not day.is_dir():
                continue
            known = self._indexed_on(camera_id, day.name)
            for path in sorted(day.glob("*.mp4")):
                relative = str(path.relative_to(self.store.root))
                if relative in known or any(relative == entry.path for entry in self.pending):
                    continue
                name = PLACED_NAME.match(path.name)
                duration = media_duration_s(path)
                if name is None or duration <= 0:
                    self._set_aside(camera_dir, path, report)
                    continue
                started = datetime.strptime(f"{day.name} {name.group(1)}", "%Y-%m-%d %H%M%S.%f").replace(tzinfo=timezone.utc)
                yield self.store.describe(camera_id, path, started, duration)

    def _indexed_on(self, camera_id: int, day_name: str) -> set[str]:
        """Indexed paths of a camera's segments that start on that UTC day (its day folder's)."""
        day = datetime.strptime(day_name, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        with self.runtime.database.read_session() as db:
            return set(db.execute(select(RecordingSegment.path).where(
                RecordingSegment.camera_id == camera_id, RecordingSegment.started_at >= day - timedelta(hours=1),
                RecordingSegment.started_at < day + timedelta(hours=25))).scalars())

    def _set_aside(self, camera_dir: Path, path: Path, report: SalvageReport) -> None:
        if not _holds_media(path):
            path.unlink(missing_ok=True)  # opened by ffmpeg, never given a frame: nothing was recorded
            return
        aside = camera_dir / UNREADABLE
        aside.mkdir(exist_ok=True)
        os.replace(path, aside / path.name)
        report.unreadable.append(str((aside / path.name).relative_to(self.store.root)))

    def _report_pending(self) -> None:
        with self._lock:
            count = len(self.pending)
        self.runtime.database.write_health.set_pending("segments", count)


def _holds_media(path: Path) -> bool:
    """Whether a file holds any media box (a fragment or media data): a segment killed as it opened has neither."""
    with open(path, "rb") as handle:
        head = handle.read(MEDIA_BOX_SEARCH_BYTES)
    return b"moof" in head or b"mdat" in head


SEGMENTS = RecordingSegment.__table__
INDEXED_COLUMNS = ("camera_id", "started_at", "ended_at", "duration_s", "bytes", "sha256", "path", "created_at")


def _insert_once(db, segment: ClosedSegment) -> None:
    """One plain INSERT ... SELECT ... WHERE NOT EXISTS: no ORM unit of work for a row written every few seconds.

    Idempotent: a retry after a commit whose answer was lost must not index the segment twice.
    """
    values = {"camera_id": segment.camera_id, "started_at": segment.started_at, "ended_at": segment.ended_at,
              "duration_s": segment.duration_s, "bytes": segment.bytes, "sha256": segment.sha256, "path": segment.path,
              "created_at": clock.utcnow()}
    row = select(*(literal(values[name], SEGMENTS.c[name].type).label(name) for name in INDEXED_COLUMNS))
    already = select(SEGMENTS.c.id).where(SEGMENTS.c.path == segment.path)
    db.execute(insert(SEGMENTS).from_select(INDEXED_COLUMNS, row.where(~exists(already))))
