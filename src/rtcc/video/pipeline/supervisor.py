"""One reconcile loop for every camera: which record, which decode for which consumers; each camera's pipeline runs it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update

from rtcc.auth.models import Agency
from rtcc.cameras.models import Camera
from rtcc.cameras.health import RECORDED_MODES  # which record modes record: one home, the health board's
from rtcc.cameras.service import stream_url_for_ingest
from rtcc.cameras.stream_urls import StreamSourcePolicy, StreamSourceRefused
from rtcc.core import clock
from rtcc.core.database import run_write
from rtcc.core.events import emit
from rtcc.core.runtime import Runtime
from rtcc.video.events import CameraStatusChanged, MotionDetected
from rtcc.video.pipeline.camera_pipeline import CameraPipeline, CameraPlan, DecoderPlan
from rtcc.video.pipeline.consumers import ConsumerKind, consumer_kind, decoding_for
from rtcc.video.analytics.privacy import mask_file_for
from rtcc.video.recording.recorder import CameraRecorder, RecorderStatus
from rtcc.video.recording.salvage import SegmentIndexer
from rtcc.video.recording.storage import ClosedSegment, SegmentStore

if TYPE_CHECKING:
    from rtcc.video.live.registry import LiveRelayRegistry

log = logging.getLogger(__name__)

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


def records(camera: Camera) -> bool:
    """Whether the camera's main stream is recorded (given recording is on)."""
    return camera.record_mode in RECORDED_MODES and camera.kind != "private_registered"


class CameraPipelineSupervisor:
    """Reconciles every camera's pipeline with the registry every few seconds (cameras added, changed, removed).

    `record`: recorded cameras get a recorder. `kinds`: the consumer kinds this supervisor feeds (names of
    registered kinds, or kinds). `services`: what consumer kinds need to build their consumers (hotlists, ...).
    Given the server's live relays, each recorder's ffmpeg also writes the camera's live view, and live
    view of a recorded camera opens no second upstream.
    """

    def __init__(self, runtime: Runtime, *, live_relays: LiveRelayRegistry | None = None, record: bool = True,
                 kinds: Iterable[str | ConsumerKind] = ("health",), services: Mapping[str, Any] | None = None,
                 reconcile_seconds: float | None = None):
        if any(kind == "health" for kind in kinds):
            import rtcc.video.pipeline.health_consumer  # noqa: F401  (registers the kind)
        self.runtime = runtime
        self.live_relays = live_relays
        self.record = record
        self.kinds = {kind.name: kind for kind in (consumer_kind(kind) if isinstance(kind, str) else kind for kind in kinds)}
        self.services = dict(services or {})
        self.reconcile_seconds = reconcile_seconds
        self.store = media_store(runtime)
        self.indexer = SegmentIndexer(runtime, self.store)
        self.pipelines: dict[int, CameraPipeline] = {}
        self.health: dict[int, str] = {}  # picture verdicts of cameras whose health consumer is not "ok"
        self._plans: dict[int, CameraPlan] = {}
        self._refusals_logged: set[tuple[int, str]] = set()
        self._wake = asyncio.Event()
        self._stopped = False
        # Recorders report statuses here; one writer stores them, so no recorder waits on the database to retry.
        self._status_queue: dict[int, RecorderStatus] = {}
        self._status_writer: asyncio.Task | None = None

    # --- what tests and the app look at ---

    @property
    def recorders(self) -> dict[int, tuple[tuple[str, Path | None], CameraRecorder, asyncio.Task]]:
        """Each recording camera's (source, recorder, task)."""
        return {camera_id: (pipeline.recording, pipeline.recorder, pipeline.recorder_task)
                for camera_id, pipeline in self.pipelines.items() if pipeline.recorder is not None}

    def stats(self) -> list[dict]:
        """Per camera: recorder status, decoder counters and each consumer's (frames dropped per consumer)."""
        return [pipeline.stats() for pipeline in self.pipelines.values()]

    def consumer_stats(self, kind: str) -> list[dict]:
        """The stats of every consumer of one kind, with their camera."""
        return [{"camera_id": pipeline.camera_id, **feed.stats()}
                for pipeline in self.pipelines.values() for feed in pipeline.feeds if feed.kind == kind]

    def wake(self) -> None:
        """Reconcile now rather than at the next tick (a camera was just added)."""
        self._wake.set()

    async def run(self) -> None:
        if self.record:
            try:  # before any recorder starts: what a crash left on disk is indexed (or set aside) first
                await asyncio.to_thread(self.indexer.salvage)
            except Exception:
                log.exception("salvaging recordings failed; recording will start")
        while not self._stopped:
            try:
                if self.record and self.indexer.pending:
                    await asyncio.to_thread(self.indexer.retry_pending)
                await self.reconcile()
            except Exception:  # a bad reconcile must not stop the other cameras' pipelines
                log.exception("camera pipeline reconcile failed")
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(),
                                       timeout=self.reconcile_seconds or self.runtime.settings.recorder_reconcile_seconds)

    # --- what each camera should run ---

    def _mask_file(self, camera: Camera) -> Path | None:
        return mask_file_for(camera.id, camera.privacy_masks, self.runtime.settings.data_dir / "masks")

    def plans(self) -> dict[int, CameraPlan]:
        """Every camera's plan, read from the registry; cameras with nothing to run are left out."""
        refused: dict[int, str] = {}
        plans: dict[int, CameraPlan] = {}
        with self.runtime.database.read_session() as db:
            cameras = db.execute(select(Camera).where(Camera.main_stream_url.is_not(None), Camera.main_stream_url != "")
                                 ).scalars().all()
            for camera in cameras:
                recording = None
                if self.record and records(camera):
                    try:
                        # Names are resolved right before each ffmpeg starts, not here for every camera.
                        url = stream_url_for_ingest(camera, runtime=self.runtime, resolve_hosts=False)
                        recording = (url, self._mask_file(camera))
                    except StreamSourceRefused as error:
                        refused[camera.id] = f"source refused: {error.message}"[:300]
                decoder = self._decoder_plan(camera, recorded=recording is not None)
                if recording or decoder:
                    plans[camera.id] = CameraPlan(camera.id, recording=recording, decoder=decoder)
            settled = {camera.id: (SOURCE_REFUSED, refused[camera.id]) for camera in cameras
                       if camera.id in refused and (camera.status, camera.status_detail) != (SOURCE_REFUSED, refused[camera.id])}
            if self.record:
                settled.update({camera_id: NO_SOURCE for camera_id in db.execute(select(Camera.id).where(
                    Camera.record_mode.in_(RECORDED_MODES), Camera.kind != "private_registered",
                    or_(Camera.main_stream_url.is_(None), Camera.main_stream_url == ""),
                    or_(Camera.status.is_(None), Camera.status != NO_SOURCE[0]))).scalars()})
        if settled:
            try:
                self._settle_statuses(settled)
            except Exception:  # advisory: the next reconcile finds the same cameras and tries again
                log.exception("status of %d cameras without a usable source not stored", len(settled))
        return plans

    def _decoder_plan(self, camera: Camera, *, recorded: bool) -> DecoderPlan | None:
        """The camera's one decoder, serving every consumer kind that wants its frames (None: no kind does)."""
        wanted = {name: needs for name, kind in self.kinds.items()
                  if (needs := kind.wants(camera, self.runtime, recorded)) is not None}
        if not wanted:
            return None
        decode = decoding_for(wanted.values())
        try:
            url = stream_url_for_ingest(camera, runtime=self.runtime, sub_stream=decode.stream == "sub",
                                        resolve_hosts=False)
        except StreamSourceRefused as error:  # that camera's frames only go unread; its status says why elsewhere
            if (camera.id, error.message) not in self._refusals_logged:
                self._refusals_logged.add((camera.id, error.message))
                log.warning("camera %s: %s stream not decoded: %s", camera.id, decode.stream, error)
            return None
        if not url:
            return None
        masks = list(camera.privacy_masks or [])
        return DecoderPlan(url=url, decode=decode, consumers=tuple(sorted(wanted.items(), key=lambda item: item[0])),
                           masks_key=tuple(map(str, masks)), masks=masks)

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
                emit(db, CameraStatusChanged(agency_ori=ori, camera_groups=groups, camera_id=camera_id,
                                             status=state, detail=detail))
        log.info("%d cameras without a usable source: status settled, no recorder", len(rows))

    async def reconcile(self) -> None:
        plans = await asyncio.to_thread(self.plans)
        if self._stopped:  # stop() ran while the registry was read: start nothing
            return
        self._plans = plans
        # Stopped together: each may take seconds to close its segment, and the others must not wait in line.
        await asyncio.gather(*(pipeline.stop_changed(plans.get(camera_id)) for camera_id, pipeline in list(self.pipelines.items())),
                             return_exceptions=True)
        for camera_id, pipeline in list(self.pipelines.items()):
            if pipeline.idle and camera_id not in plans:
                del self.pipelines[camera_id]
        for camera_id, plan in plans.items():
            self.pipelines.setdefault(camera_id, CameraPipeline(camera_id, self)).start_missing(plan)

    # --- what a pipeline asks of its supervisor ---

    def new_recorder(self, camera_id: int, url: str, mask_png: Path | None) -> CameraRecorder:
        """The camera's recorder; given live relays, its ffmpeg feeds the camera's live view too."""
        feed = self.live_relays.new_recorder_feed(camera_id, url, mask_png) if self.live_relays else None
        recorder = CameraRecorder(
            camera_id=camera_id, url=url, store=self.store, segment_seconds=self.runtime.settings.segment_seconds,
            on_segment=self._index_segment, on_status=self._queue_status, source_check=self.source_refusal,
            ffmpeg=self.runtime.settings.ffmpeg_path, io_timeout_s=self.runtime.settings.stream_io_timeout_seconds,
            mask_png=mask_png, live_feed=feed,
            live_fragment_ms=self.live_relays.settings.fragment_ms if self.live_relays else 100,
        )
        if feed is not None:
            self.live_relays.attach_recorder_feed(camera_id, feed)
        return recorder

    def recorder_stopped(self, camera_id: int, recorder: CameraRecorder) -> None:
        if self.live_relays is not None and recorder.live_feed is not None:
            # Only now that the recorder's session is closed: viewers move to an upstream of the relay's own
            # (or to the next recorder's feed when the camera's source changed), never two sessions at once.
            self.live_relays.detach_recorder_feed(camera_id, recorder.live_feed)

    def decoder_stopped(self, camera_id: int) -> None:
        self.health.pop(camera_id, None)

    async def health_changed(self, camera_id: int, verdict: str) -> None:
        """Black, frozen or tampered pictures become the camera's status (and an event) until they clear."""
        self.health[camera_id] = verdict
        pipeline = self.pipelines.get(camera_id)
        recording = pipeline.recorder.status if pipeline and pipeline.recorder else RecorderStatus("recording")
        await self._record_status(camera_id, recording)

    async def motion(self, camera_id: int) -> None:
        """Motion started on the camera: the console wakes its wall tile (no database row; the bus only)."""
        def motion_event():
            with self.runtime.database.read_session() as db:
                row = db.execute(select(Camera.groups, Agency.ori).join(Agency, Camera.agency_id == Agency.id)
                                 .where(Camera.id == camera_id)).one_or_none()
            if row is not None:
                return MotionDetected(agency_ori=row[1], camera_groups=row[0], camera_id=camera_id)

        event = await asyncio.to_thread(motion_event)
        if event is not None:
            self.runtime.bus.publish(event)

    async def source_refusal(self, url: str) -> str | None:
        """Why `url` may not be opened now (its host resolved afresh), or None; checked before every ffmpeg start."""
        policy = StreamSourcePolicy.of(self.runtime.settings)
        return await asyncio.to_thread(policy.refusal, url, resolve=True)

    async def stop(self) -> None:
        """Stop every camera's pipeline (decoders first, then recorders, which close and index their open segment)."""
        if self._stopped and not self.pipelines:
            return
        self._stopped = True
        self._wake.set()
        await asyncio.gather(*(pipeline.stop() for pipeline in self.pipelines.values()), return_exceptions=True)
        self.pipelines.clear()
        while self._status_writer is not None and not self._status_writer.done():  # the recorders' last words
            await self._status_writer

    # --- statuses and segments ---

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
            emit(db, CameraStatusChanged(agency_ori=ori, camera_groups=camera.groups, camera_id=camera_id,
                                         status=status.state, detail=status.detail))

        log.info("camera %s: %s %s", camera_id, status.state, status.detail or "")
        try:
            await asyncio.to_thread(run_write, self.runtime.database, update, what=f"status of camera {camera_id}")
        except Exception:  # a status the database would not take must not stop the recording it describes
            log.exception("status of camera %s not stored", camera_id)
