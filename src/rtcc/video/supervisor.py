"""Keeps a recorder running for every camera that should record, and only for those."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from rtcc.auth.models import Agency
from rtcc.cameras.models import Camera
from rtcc.cameras.service import stream_url_for_ingest
from rtcc.cameras.stream_urls import StreamSourcePolicy, StreamSourceRefused
from rtcc.core import clock
from rtcc.core.database import run_write
from rtcc.core.events import emit, make_event
from rtcc.core.runtime import Runtime
from rtcc.video.health import FrameHealthAnalyser, MotionDetector, SubStreamSampler
from rtcc.video.privacy import mask_file_for
from rtcc.video.recorder import CameraRecorder, RecorderStatus
from rtcc.video.salvage import SegmentIndexer
from rtcc.video.storage import ClosedSegment, SegmentStore

if TYPE_CHECKING:
    from rtcc.video.live import LiveRelayRegistry

log = logging.getLogger(__name__)

RECORDED_MODES = ("continuous", "events")  # event-only cameras record too: retention keeps the video around marks
# Cameras that cannot be recorded get a settled status once, and no recorder: nothing retries them.
NO_SOURCE = ("no_source", "no stream URL")
SOURCE_REFUSED = "source_refused"

HEALTH_DETAILS = {
    "black": "the picture is black",
    "frozen": "the picture has not changed",
    "tamper_covered": "the lens looks covered",
    "tamper_moved": "the view changed suddenly: camera moved?",
}


def media_store(runtime: Runtime) -> SegmentStore:
    return SegmentStore(runtime.settings.data_dir / "media")


class RecordingSupervisor:
    """Reconciles recorders with the registry every few seconds (cameras added, changed, removed).

    Given the server's live relays, each recorder's ffmpeg also writes the camera's live view, and live
    view of a recorded camera opens no second upstream.
    """

    def __init__(self, runtime: Runtime, live_relays: LiveRelayRegistry | None = None):
        self.runtime = runtime
        self.live_relays = live_relays
        self.store = media_store(runtime)
        self.indexer = SegmentIndexer(runtime, self.store)
        self.recorders: dict[int, tuple[tuple[str, Path | None], CameraRecorder, asyncio.Task]] = {}
        # Health watching decodes the low-fps sub-stream, only for cameras that have one.
        self.health_watchers: dict[int, tuple[tuple, asyncio.Task]] = {}
        self.health: dict[int, str] = {}
        self._health_sources: dict[int, tuple] = {}
        self._masks: dict[int, list] = {}
        self._wake = asyncio.Event()
        self._stopped = False
        # Recorders report statuses here; one writer stores them, so no recorder waits on the database to retry.
        self._status_queue: dict[int, RecorderStatus] = {}
        self._status_writer: asyncio.Task | None = None

    def wake(self) -> None:
        """Reconcile now rather than at the next tick (a camera was just added)."""
        self._wake.set()

    async def run(self) -> None:
        try:  # before any recorder starts: what a crash left on disk is indexed (or set aside) first
            await asyncio.to_thread(self.indexer.salvage)
        except Exception:
            log.exception("recording salvage failed; segments on disk wait for the next start")
        while not self._stopped:
            try:
                if self.indexer.pending:
                    await asyncio.to_thread(self.indexer.retry_pending)
                await self.reconcile()
            except Exception:  # a bad reconcile must not stop recording of the others
                log.exception("recording reconcile failed")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.runtime.settings.recorder_reconcile_seconds)

    def _mask_file(self, camera: Camera) -> Path | None:
        return mask_file_for(camera.id, camera.privacy_masks, self.runtime.settings.data_dir / "masks")

    def _wanted(self) -> dict[int, tuple[str, Path | None]]:
        refused: dict[int, str] = {}
        with self.runtime.database.read_session() as db:
            cameras = db.execute(
                select(Camera).where(Camera.record_mode.in_(RECORDED_MODES), Camera.main_stream_url.is_not(None),
                                     Camera.main_stream_url != "", Camera.kind != "private_registered")
            ).scalars().all()
            wanted, self._health_sources, self._masks = {}, {}, {}
            for camera in cameras:
                try:
                    # Names are resolved by each recorder right before it starts ffmpeg, not here for every camera.
                    url = stream_url_for_ingest(camera, runtime=self.runtime, resolve_hosts=False)
                except StreamSourceRefused as error:
                    refused[camera.id] = f"source refused: {error.message}"[:300]
                    continue
                self._masks[camera.id] = camera.privacy_masks or []
                wanted[camera.id] = (url, self._mask_file(camera))
                if camera.sub_stream_url:
                    with contextlib.suppress(StreamSourceRefused):  # a refused sub-stream only goes unwatched
                        self._health_sources[camera.id] = (
                            stream_url_for_ingest(camera, runtime=self.runtime, sub_stream=True, resolve_hosts=False),
                            tuple(map(str, camera.privacy_masks or [])))
            settled = {camera.id: (SOURCE_REFUSED, refused[camera.id]) for camera in cameras
                       if camera.id in refused and (camera.status, camera.status_detail) != (SOURCE_REFUSED, refused[camera.id])}
            settled.update({camera_id: NO_SOURCE for camera_id in db.execute(select(Camera.id).where(
                Camera.record_mode.in_(RECORDED_MODES), Camera.kind != "private_registered",
                or_(Camera.main_stream_url.is_(None), Camera.main_stream_url == ""),
                or_(Camera.status.is_(None), Camera.status != NO_SOURCE[0]))).scalars()})
        if settled:
            try:
                self._settle_statuses(settled)
            except Exception:  # advisory: the next reconcile finds the same cameras and tries again
                log.exception("status of %d cameras without a usable source not stored", len(settled))
        return wanted

    def _settle_statuses(self, settled: dict[int, tuple[str, str]]) -> None:
        """Store the status of cameras that get no recorder (no URL, refused URL), once, in one transaction."""
        now = clock.utcnow()
        with self.runtime.database.session() as db:
            rows = db.execute(select(Camera.id, Camera.groups, Agency.ori).join(Agency, Camera.agency_id == Agency.id)
                              .where(Camera.id.in_(list(settled)))).all()
            by_status: dict[tuple[str, str], list[int]] = {}
            for camera_id, *_ in rows:
                by_status.setdefault(settled[camera_id], []).append(camera_id)
            for (state, detail), ids in by_status.items():
                for start in range(0, len(ids), 900):
                    db.execute(update(Camera).where(Camera.id.in_(ids[start:start + 900]))
                               .values(status=state, status_detail=detail, status_changed_at=now))
            for camera_id, groups, ori in rows:
                state, detail = settled[camera_id]
                emit(db, make_event("camera.status", agency_ori=ori, camera_groups=groups, camera_id=camera_id,
                                    status=state, detail=detail))
        log.info("%d cameras without a usable source: status settled, no recorder", len(rows))

    async def reconcile(self) -> None:
        wanted = await asyncio.to_thread(self._wanted)
        if self._stopped:  # stop() ran while the registry was read: start nothing
            return
        # Stopped together: each may take seconds to close its segment, and the others must not wait in line.
        await asyncio.gather(*(self._stop_one(camera_id) for camera_id, (source, _, task) in list(self.recorders.items())
                               if wanted.get(camera_id) != source or task.done()), return_exceptions=True)
        for camera_id, source in wanted.items():
            if camera_id not in self.recorders:
                url, mask_png = source
                feed = self.live_relays.new_recorder_feed(camera_id, url, mask_png) if self.live_relays else None
                recorder = CameraRecorder(
                    camera_id=camera_id, url=url, store=self.store, segment_seconds=self.runtime.settings.segment_seconds,
                    on_segment=self._index_segment, on_status=self._queue_status, source_check=self._source_refusal,
                    ffmpeg=self.runtime.settings.ffmpeg_path, io_timeout_s=self.runtime.settings.stream_io_timeout_seconds,
                    mask_png=mask_png, live_feed=feed,
                    live_fragment_ms=self.live_relays.settings.fragment_ms if self.live_relays else 100,
                )
                self.recorders[camera_id] = (source, recorder, asyncio.create_task(recorder.run(), name=f"record-cam{camera_id}"))
                if feed is not None:
                    self.live_relays.attach_recorder_feed(camera_id, feed)
        await self._reconcile_health()

    async def _reconcile_health(self) -> None:
        for camera_id, (source, task) in list(self.health_watchers.items()):
            if self._health_sources.get(camera_id) != source or task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                del self.health_watchers[camera_id]
                self.health.pop(camera_id, None)
        for camera_id, source in self._health_sources.items():
            if camera_id not in self.health_watchers:
                task = asyncio.create_task(self._watch_health(camera_id, source[0]), name=f"health-cam{camera_id}")
                self.health_watchers[camera_id] = (source, task)

    async def _watch_health(self, camera_id: int, url: str) -> None:
        """Black, frozen or tampered pictures become the camera's status (and an event) until they clear."""
        refusal = await self._source_refusal(url)
        if refusal:  # its name resolves to a refused address now: watch nothing; the next reconcile looks again
            log.warning("camera %s: health sub-stream not opened: %s", camera_id, refusal)
            await asyncio.sleep(60)
            return
        analyser = FrameHealthAnalyser()
        motion = MotionDetector(min_interval_s=self.runtime.settings.motion_event_min_seconds)
        sampler = SubStreamSampler(url, ffmpeg=self.runtime.settings.ffmpeg_path,
                                   privacy_masks=self._masks.get(camera_id, []),
                                   io_timeout_s=self.runtime.settings.stream_io_timeout_seconds)
        async with contextlib.aclosing(sampler.frames()) as frames:
            async for frame in frames:
                verdict = analyser.feed(frame.pixels, frame.monotonic_s)
                if motion.feed(frame.pixels, frame.monotonic_s) and verdict == "ok":
                    await self._report_motion(camera_id)
                if verdict != self.health.get(camera_id, "ok"):
                    self.health[camera_id] = verdict
                    entry = self.recorders.get(camera_id)
                    recording = entry[1].status if entry else RecorderStatus("recording")
                    await self._record_status(camera_id, recording)

    async def _report_motion(self, camera_id: int) -> None:
        """Motion started on the camera: the console wakes its wall tile (no database row; the bus only)."""
        def motion_event():
            with self.runtime.database.read_session() as db:
                row = db.execute(select(Camera.groups, Agency.ori).join(Agency, Camera.agency_id == Agency.id)
                                 .where(Camera.id == camera_id)).one_or_none()
            if row is not None:
                return make_event("camera.motion", agency_ori=row[1], camera_groups=row[0], camera_id=camera_id)

        event = await asyncio.to_thread(motion_event)
        if event is not None:
            self.runtime.bus.publish(event)

    async def _stop_one(self, camera_id: int) -> None:
        _, recorder, task = self.recorders.pop(camera_id)
        await recorder.stop()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=20)
        if self.live_relays is not None and recorder.live_feed is not None:
            # Only now that the recorder's session is closed: viewers move to an upstream of the relay's own
            # (or to the next recorder's feed when the camera's source changed), never two sessions at once.
            self.live_relays.detach_recorder_feed(camera_id, recorder.live_feed)

    async def stop(self) -> None:
        """Stop every recorder (each closes and indexes its open segment) and every health watcher; for good."""
        self._stopped = True
        self._wake.set()
        for _, task in self.health_watchers.values():
            task.cancel()
        await asyncio.gather(*(task for _, task in self.health_watchers.values()), return_exceptions=True)
        self.health_watchers.clear()
        await asyncio.gather(*(self._stop_one(camera_id) for camera_id in list(self.recorders)), return_exceptions=True)
        while self._status_writer is not None and not self._status_writer.done():  # the recorders' last words
            await self._status_writer

    async def _source_refusal(self, url: str) -> str | None:
        """Why `url` may not be opened now (its host resolved afresh), or None; checked before every ffmpeg start."""
        policy = StreamSourcePolicy.of(self.runtime.settings)
        return await asyncio.to_thread(policy.refusal, url, resolve=True)

    async def _queue_status(self, camera_id: int, status: RecorderStatus) -> None:
        """A recorder's new status, stored soon by the one status writer; only the latest per camera is kept."""
        self._status_queue.pop(camera_id, None)  # re-inserted at the end: cameras are written in the order they changed
        self._status_queue[camera_id] = status
        if self._status_writer is None or self._status_writer.done():
            self._status_writer = asyncio.create_task(self._write_statuses(), name="camera-status-writer")

    async def _write_statuses(self) -> None:
        while self._status_queue:
            camera_id = next(iter(self._status_queue))
            status = self._status_queue.pop(camera_id)
            try:
                await self._record_status(camera_id, status)
            except Exception:  # one status the database would not take must not stop the others being stored
                log.exception("status of camera %s not stored", camera_id)

    async def _index_segment(self, segment: ClosedSegment) -> None:
        await self.indexer.index_async(segment)  # retried while the database is busy, kept if it stays so

    async def _record_status(self, camera_id: int, status: RecorderStatus) -> None:
        verdict = self.health.get(camera_id, "ok")
        if status.state == "recording" and verdict != "ok":  # recording, but the picture is wrong
            status = RecorderStatus(verdict, HEALTH_DETAILS.get(verdict, verdict))

        def update(db) -> None:
            row = db.execute(select(Camera, Agency.ori).join(Agency, Camera.agency_id == Agency.id)
                             .where(Camera.id == camera_id)).one_or_none()
            if row is None:
                return
            camera, ori = row
            camera.status, camera.status_detail, camera.status_changed_at = status.state, status.detail, clock.utcnow()
            emit(db, make_event("camera.status", agency_ori=ori, camera_groups=camera.groups, camera_id=camera_id,
                                status=status.state, detail=status.detail))

        log.info("camera %s: %s %s", camera_id, status.state, status.detail or "")
        try:
            await asyncio.to_thread(run_write, self.runtime.database, update, what=f"status of camera {camera_id}")
        except Exception:  # a status the database would not take must not stop the recording it describes
            log.exception("status of camera %s not stored", camera_id)
