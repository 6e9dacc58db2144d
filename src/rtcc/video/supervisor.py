"""Keeps a recorder running for every camera that should record, and only for those."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from pathlib import Path

from sqlalchemy import select

from rtcc.auth.models import Agency
from rtcc.cameras.models import Camera
from rtcc.cameras.service import stream_url_for_ingest
from rtcc.core import clock
from rtcc.core.events import emit, make_event
from rtcc.core.runtime import Runtime
from rtcc.video.models import RecordingSegment
from rtcc.video.privacy import render_mask_png
from rtcc.video.recorder import CameraRecorder, RecorderStatus
from rtcc.video.storage import ClosedSegment, SegmentStore

log = logging.getLogger(__name__)


def media_store(runtime: Runtime) -> SegmentStore:
    return SegmentStore(runtime.settings.data_dir / "media")


class RecordingSupervisor:
    """Reconciles recorders with the registry every few seconds (cameras added, changed, removed)."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.store = media_store(runtime)
        self.recorders: dict[int, tuple[str, CameraRecorder, asyncio.Task]] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Reconcile now rather than at the next tick (a camera was just added)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.reconcile()
            except Exception:  # a bad reconcile must not stop recording of the others
                log.exception("recording reconcile failed")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.runtime.settings.recorder_reconcile_seconds)

    def _mask_file(self, camera: Camera) -> Path | None:
        """The camera's privacy mask as a PNG named by its content (a changed mask restarts the recorder)."""
        if not camera.privacy_masks:
            return None
        digest = hashlib.sha256(json.dumps(camera.privacy_masks, sort_keys=True).encode()).hexdigest()[:16]
        path = self.runtime.settings.data_dir / "masks" / f"cam{camera.id}-{digest}.png"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            render_mask_png(camera.privacy_masks, path)
        return path

    def _wanted(self) -> dict[int, tuple[str, Path | None]]:
        with self.runtime.database.read_session() as db:
            cameras = db.execute(
                select(Camera).where(Camera.record_mode == "continuous", Camera.main_stream_url.is_not(None),
                                     Camera.kind != "private_registered")
            ).scalars().all()
            return {camera.id: (stream_url_for_ingest(camera, runtime=self.runtime), self._mask_file(camera))
                    for camera in cameras}

    async def reconcile(self) -> None:
        wanted = await asyncio.to_thread(self._wanted)
        for camera_id, (source, recorder, task) in list(self.recorders.items()):
            if wanted.get(camera_id) != source or task.done():
                await self._stop_one(camera_id)
        for camera_id, source in wanted.items():
            if camera_id not in self.recorders:
                url, mask_png = source
                recorder = CameraRecorder(
                    camera_id=camera_id, url=url, store=self.store, segment_seconds=self.runtime.settings.segment_seconds,
                    on_segment=self._index_segment, on_status=self._record_status,
                    ffmpeg=self.runtime.settings.ffmpeg_path, io_timeout_s=self.runtime.settings.stream_io_timeout_seconds,
                    mask_png=mask_png,
                )
                self.recorders[camera_id] = (source, recorder, asyncio.create_task(recorder.run(), name=f"record-cam{camera_id}"))

    async def _stop_one(self, camera_id: int) -> None:
        url, recorder, task = self.recorders.pop(camera_id)
        await recorder.stop()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=20)

    async def stop(self) -> None:
        """Stop every recorder; each closes and indexes its open segment."""
        await asyncio.gather(*(self._stop_one(camera_id) for camera_id in list(self.recorders)), return_exceptions=True)

    async def _index_segment(self, segment: ClosedSegment) -> None:
        def insert() -> None:
            with self.runtime.database.session() as db:
                db.add(RecordingSegment(
                    camera_id=segment.camera_id, started_at=segment.started_at, ended_at=segment.ended_at,
                    duration_s=segment.duration_s, bytes=segment.bytes, sha256=segment.sha256, path=segment.path,
                    created_at=clock.utcnow(),
                ))

        await asyncio.to_thread(insert)

    async def _record_status(self, camera_id: int, status: RecorderStatus) -> None:
        def update() -> None:
            with self.runtime.database.session() as db:
                row = db.execute(select(Camera, Agency.ori).join(Agency, Camera.agency_id == Agency.id)
                                 .where(Camera.id == camera_id)).one_or_none()
                if row is None:
                    return
                camera, ori = row
                camera.status, camera.status_detail, camera.status_changed_at = status.state, status.detail, clock.utcnow()
                emit(db, make_event("camera.status", agency_ori=ori, camera_groups=camera.groups, camera_id=camera_id,
                                    status=status.state, detail=status.detail))

        log.info("camera %s: %s %s", camera_id, status.state, status.detail or "")
        await asyncio.to_thread(update)
