"""Plate reads from live camera video: ffmpeg -> motion gate -> PlateReader -> PlateTracker -> ingest.

Which stream to decode (`source`): the architecture rule is "decode only a low-fps sub-stream". We keep it by
default: at 640x360 the simulated plates are ~30 px tall and read at confidence 1.0, at ~0.3 s a frame on one core.
Use source="main" only for a camera whose sub-stream is too small to read plates (CIF sub-streams, wide scenes
with distant plates): the main stream costs ~4x the decode and is decoded in Python besides the recorder's copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select

from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.video.main_crops import PassToSharpen, cut_sharper_crop, recording_covering
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.alpr.video.passes import MotionGate, PlateTracker, VehiclePass, write_crop
from rtcc.cameras.models import Camera
from rtcc.core import clock
from rtcc.core.database import run_write
from rtcc.core.runtime import Runtime
from rtcc.video.pipeline.consumers import (
    ConsumerContext,
    ConsumerFeed,
    ConsumerKind,
    DecodedFrame,
    FrameNeeds,
    register_consumer_kind,
)
from rtcc.video.pipeline.decoder import SubStreamDecoder
from rtcc.video.pipeline.supervisor import CameraPipelineSupervisor

log = logging.getLogger(__name__)

# Frame sizes and rate are settings: RTCC_VIDEO_READS_FPS, RTCC_VIDEO_READS_{SUB,MAIN}_STREAM_{WIDTH,HEIGHT}.
PLATE_STREAMS = ("sub", "main")


def reads_plates(camera: Camera) -> bool:
    """Whether plates are read from this camera's video: its own reads_plates field (opt-in)."""
    return bool(camera.reads_plates)


# A frame handed to the reader: BGR pixels (height x width x 3) and when it was captured.
Frame = DecodedFrame


class CameraPlateReader:
    """Reads plates from one camera's frames: motion gate, reader, tracker, store, sharpened crops.

    In the server it is the "plates" consumer of the camera's pipeline (one decoder shared with health).
    run() reads `url` on its own, through a decoder of its own, for as long as it runs; stop() ends it.
    """

    def __init__(self, *, runtime: Runtime, hotlists: HotlistCache, camera_id: int, url: str | None = None,
                 source: str = "sub",
                 fps: float | None = None, width: int | None = None, height: int | None = None, privacy_masks=(),
                 tracker: PlateTracker | None = None, gate: MotionGate | None = None, reader=None, region: str | None = None,
                 queue_frames: int = 4, io_timeout_s: int = 10, stale_after_s: float = 10.0, max_backoff_s: float = 60.0,
                 sharpen_from_recording: bool = False):
        if source not in PLATE_STREAMS:
            raise ValueError(f"source must be 'sub' or 'main', not {source!r}")
        self.runtime, self.hotlists, self.camera_id, self.url, self.source = runtime, hotlists, camera_id, url, source
        self.fps = fps or runtime.settings.video_reads_fps
        # ffmpeg scales to a fixed size so every frame has a known byte count (a non-16:9 camera is stretched).
        default_width, default_height = runtime.settings.plate_frame_size(source)
        self.width, self.height = width or default_width, height or default_height
        self.privacy_masks = list(privacy_masks or [])  # painted out before the reader sees a frame
        self.tracker = tracker or PlateTracker()
        self.gate = gate or MotionGate(**runtime.settings.motion_gate_thresholds())
        self.region = region  # plate formats; None: the RTCC_ALPR_REGION setting
        self._reader = reader  # made in the worker thread on first use: loading models takes a second
        self._reader_lock = threading.Lock()  # frames and crop sharpening read from two threads
        # Read from the sub-stream and recorded from the main one: each stored pass's crop is cut again from
        # the recording at the main stream's size once its segment closes (rtcc.alpr.video.main_crops).
        self.sharpen_from_recording = sharpen_from_recording and source == "sub"
        self._sharpening: set[asyncio.Task] = set()
        self.io_timeout_s, self.stale_after_s, self.max_backoff_s = io_timeout_s, stale_after_s, max_backoff_s
        self.status = "connecting"
        self.queue_frames = queue_frames
        self.feed: ConsumerFeed | None = None  # the queue its frames come through (counts what it was offered, dropped)
        self.passes_stored = self.alerts = self.store_failures = 0
        self.crops_sharpened = 0
        self.read_seconds = 0.0  # time spent in the reader, for CPU budgeting
        self.started_monotonic: float | None = None
        # Passes the database would not take yet (busy past every retry): stored again before newer ones.
        self._unstored: list[VehiclePass] = []
        self._retry_unstored_at = 0.0
        self._stopping = asyncio.Event()
        self._decoder: SubStreamDecoder | None = None

    @property
    def needs(self) -> FrameNeeds:
        """What it needs of the camera's decoder: BGR frames of its size at its rate."""
        return FrameNeeds(width=self.width, height=self.height, fps=self.fps, colour=True, stream=self.source)

    @property
    def frames_decoded(self) -> int:
        return self.feed.frames_offered if self.feed else 0

    @property
    def frames_dropped(self) -> int:
        return self.feed.frames_dropped if self.feed else 0

    def command(self) -> list[str]:
        """ffmpeg decoding the stream at fps frames a second into BGR pixels of a fixed size (run() on its own)."""
        return self._own_decoder().command()

    def _own_decoder(self) -> SubStreamDecoder:
        if self.url is None:
            raise ValueError("a plate reader fed by a camera pipeline has no stream of its own")
        settings = self.runtime.settings
        # Masks are painted out by the decoder, before any consumer sees a frame.
        return SubStreamDecoder(self.url, needs=self.needs, ffmpeg=settings.ffmpeg_path,
                                io_timeout_s=self.io_timeout_s, stale_after_s=self.stale_after_s,
                                max_backoff_s=self.max_backoff_s, privacy_masks=self.privacy_masks,
                                feeds=[self.attach_feed()], on_status=self._decoder_status)

    def attach_feed(self) -> ConsumerFeed:
        """The bounded queue its frames come through."""
        self.feed = ConsumerFeed("plates", self, self.needs, queue_frames=self.queue_frames, decoded_fps=self.fps)
        return self.feed

    async def _decoder_status(self, state: str, detail: str | None) -> None:
        self.status = {"online": "online", "connecting": "connecting", "stopped": self.status}.get(state, "reconnecting")

    def stats(self) -> dict:
        """Counters for the status page and for measurements."""
        elapsed = time.monotonic() - self.started_monotonic if self.started_monotonic else 0.0
        return {"camera_id": self.camera_id, "status": self.status, "source": self.source, "seconds": round(elapsed, 1),
                "frames_decoded": self.frames_decoded, "frames_dropped": self.frames_dropped,
                "frames_read": self.gate.frames_read, "frames_skipped": self.gate.frames_skipped,
                "read_seconds": round(self.read_seconds, 2), "open_passes": self.tracker.open_passes,
                "passes_stored": self.passes_stored, "passes_discarded": self.tracker.passes_discarded,
                "alerts": self.alerts, "store_failures": self.store_failures, "crops_sharpened": self.crops_sharpened}

    async def run(self) -> None:
        """Decode `url`, gate, read, track and store until stop(); open passes are stored on the way out."""
        self.started_monotonic = time.monotonic()
        self._decoder = decoder = self._own_decoder()
        if self._stopping.is_set():
            await decoder.stop()
        await asyncio.gather(decoder.run(), self.feed.run())

    async def stop(self) -> None:
        """Ask run() to end (it stores the passes still open)."""
        self._stopping.set()
        if self._decoder is not None:
            await self._decoder.stop()

    async def consume(self, frame: Frame) -> None:
        """One frame from the camera's decoder (already at this reader's size)."""
        if self.started_monotonic is None:
            self.started_monotonic = time.monotonic()
        self.status = "online"
        await self._handle(frame)

    async def close(self) -> None:
        """No more frames: store the passes still open and the ones the database refused so far."""
        self._stopping.set()
        for vehicle_pass in self.tracker.flush():
            await self._store(vehicle_pass)
        await self._store_unstored()
        for vehicle_pass in self._unstored:  # the database stayed unavailable to the end: say what is lost
            log.error("plate read %s from camera %s at %s could not be stored", vehicle_pass.plate, self.camera_id,
                      clock.iso(vehicle_pass.best_seen or vehicle_pass.first_seen))
        # Crops still waiting for their recording give up now (the recorder is stopping too); one being cut ends.
        await asyncio.gather(*self._sharpening, return_exceptions=True)
        self.status = "stopped"

    async def _handle(self, frame: Frame) -> None:
        reads = []
        if self.gate.should_read(frame.pixels):
            started = time.monotonic()
            reads = await asyncio.to_thread(self._read, frame.pixels, True)
            self.read_seconds += time.monotonic() - started
        # Every frame goes to the tracker, read or not, so a vehicle that has gone ends its pass on time.
        for vehicle_pass in self.tracker.feed(frame.captured_at, reads, frame.pixels):
            await self._store(vehicle_pass)
        if self._unstored and time.monotonic() >= self._retry_unstored_at:
            await self._store_unstored()

    def _read(self, pixels: np.ndarray, video_frame: bool = False):
        # A frame of this camera's video goes through the frame path (plates followed between frames, OCR only
        # for the new ones); a still picture (a crop cut from the recording) is read from scratch.
        with self._reader_lock:
            if self._reader is None:
                from rtcc.alpr.video.frame_reading import (
                    VideoFramePlateReader,  # onnxruntime is heavy: loaded only where plates are read
                )

                self._reader = VideoFramePlateReader.from_settings(self.runtime.settings, region=self.region)
            if video_frame:
                from rtcc.alpr.video.frame_reading import read_video_frame

                return read_video_frame(self._reader, pixels)
            return self._reader.read_image(pixels)

    async def _store(self, vehicle_pass: VehiclePass) -> bool:
        try:
            report, read = await asyncio.to_thread(self._store_now, vehicle_pass)
        except Exception:  # kept and stored again later: a busy database loses no read and never stops the worker
            self.store_failures += 1
            log.exception("storing plate read from camera %s failed; kept for retry", self.camera_id)
            if not any(entry is vehicle_pass for entry in self._unstored):  # (passes hold arrays: compare identity)
                self._unstored.append(vehicle_pass)
            self._retry_unstored_at = time.monotonic() + self.runtime.settings.database_write_backoff_max_ms / 1000
            self.runtime.database.write_health.set_pending(f"plate_reads_cam{self.camera_id}", len(self._unstored))
            return False
        self.passes_stored += report.stored
        self.alerts += report.alerts
        if (report.stored and self.sharpen_from_recording and read.crop_path and vehicle_pass.best_box
                and not self._stopping.is_set()):
            job = PassToSharpen(camera_id=self.camera_id, plate=read.plate, read_at=read.read_at, box=vehicle_pass.best_box,
                                frame_size=(self.width, self.height), crop_path=read.crop_path)
            task = asyncio.create_task(self._sharpen(job))
            self._sharpening.add(task)
            task.add_done_callback(self._sharpening.discard)
        return True

    async def _store_unstored(self) -> None:
        """Store the passes a busy database refused, oldest first, until one is refused again."""
        waiting, self._unstored = self._unstored, []
        for number, vehicle_pass in enumerate(waiting):
            if not await self._store(vehicle_pass):
                self._unstored.extend(waiting[number + 1:])
                break
        self.runtime.database.write_health.set_pending(f"plate_reads_cam{self.camera_id}", len(self._unstored))

    def _store_now(self, vehicle_pass: VehiclePass):
        read_at = vehicle_pass.best_seen or vehicle_pass.first_seen
        crop_path = self._save_crop(vehicle_pass, read_at)
        read = ReadIn(plate=vehicle_pass.plate, read_at=read_at, confidence=vehicle_pass.confidence,
                      region=vehicle_pass.region, camera_id=self.camera_id, direction=vehicle_pass.direction,
                      crop_path=crop_path)
        report = run_write(self.runtime.database,
                           lambda db: ingest(db, runtime=self.runtime, hotlists=self.hotlists, source="reader", reads=[read]),
                           what=f"plate read from camera {self.camera_id}")
        return report, read

    async def _sharpen(self, job: PassToSharpen) -> None:
        # Segments are indexed as they close: wait (here, not in a worker thread, which the frames need) for a
        # few of them, then keep the sub-stream crop.
        deadline = time.monotonic() + self.runtime.settings.segment_seconds * 3 + 5
        try:
            while not (segments := await asyncio.to_thread(recording_covering, self.runtime, job)):
                if time.monotonic() >= deadline or self._stopping.is_set():
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=1.0)
            if await asyncio.to_thread(cut_sharper_crop, self.runtime, self._read, job, segments):
                self.crops_sharpened += 1
        except Exception:  # the read and its sub-stream crop are stored already: nothing is lost
            log.exception("cutting the main-stream crop of a read on camera %s failed", self.camera_id)

    def _save_crop(self, vehicle_pass: VehiclePass, read_at: datetime) -> str | None:
        """The best crop as JPEG under DATA_DIR/plates/cam<id>/<date>/; its path relative to DATA_DIR."""
        if vehicle_pass.best_crop is None or vehicle_pass.best_crop.size == 0:
            return None
        safe_plate = "".join(character for character in vehicle_pass.plate if character.isalnum())[:16] or "plate"
        relative = Path("plates") / f"cam{self.camera_id}" / read_at.strftime("%Y-%m-%d") / \
            f"{read_at.strftime('%H%M%S_%f')}_{safe_plate}.jpg"
        return relative.as_posix() if write_crop(self.runtime.settings.data_dir / relative, vehicle_pass.best_crop) else None


def plate_kind(*, source: str = "sub", fps: float | None = None) -> ConsumerKind:
    """The "plates" consumer kind: cameras that read plates, from their sub-stream (`source`) when they have one."""
    if source not in PLATE_STREAMS:
        raise ValueError(f"source must be 'sub' or 'main', not {source!r}")

    def wants(camera: Camera, runtime: Runtime, recorded: bool) -> FrameNeeds | None:
        if not reads_plates(camera):
            return None
        # A camera with no sub-stream is read from its main stream (at the main stream's size).
        stream = source if camera.sub_stream_url else "main"
        # Read from the sub-stream and recorded continuously from the main one: crops are cut again from the recording.
        sharpen = runtime.settings.recording_enabled and camera.record_mode == "continuous"
        width, height = runtime.settings.plate_frame_size(stream)
        return FrameNeeds(width=width, height=height, fps=fps or runtime.settings.video_reads_fps, colour=True,
                          stream=stream, options=(sharpen,))

    def build(context: ConsumerContext) -> CameraPlateReader:
        needs = context.needs
        return CameraPlateReader(runtime=context.runtime, hotlists=context.services["hotlists"], camera_id=context.camera_id,
                                 source=needs.stream, fps=needs.fps, width=needs.width, height=needs.height,
                                 io_timeout_s=context.runtime.settings.stream_io_timeout_seconds,
                                 sharpen_from_recording=bool(needs.options and needs.options[0]))

    return ConsumerKind("plates", wants=wants, build=build)


PLATES = register_consumer_kind(plate_kind())


class PlateReadingSupervisor(CameraPipelineSupervisor):
    """Plate reading alone: a decoder feeding a CameraPlateReader for every camera that reads plates; no recorder.

    The server runs plates in the one camera pipeline supervisor, beside recording and health (app.py).
    """

    def __init__(self, runtime: Runtime, hotlists: HotlistCache, *, reconcile_seconds: float = 5.0, source: str = "sub",
                 fps: float | None = None):
        self.hotlists = hotlists
        super().__init__(runtime, record=False, kinds=[plate_kind(source=source, fps=fps)],
                         services={"hotlists": hotlists}, reconcile_seconds=reconcile_seconds)

    def _wanted(self) -> dict[int, tuple]:
        """Per camera read: (url, stream, mask key, masks, crops cut again from the recording)."""
        with self.runtime.database.read_session() as db:
            known = set(db.execute(select(Camera.id)).scalars())
        wanted = {}
        for camera_id, plan in self.plans().items():
            if camera_id in known and plan.decoder is not None:
                needs = dict(plan.decoder.consumers)["plates"]
                wanted[camera_id] = (plan.decoder.url, needs.stream, plan.decoder.masks_key, plan.decoder.masks,
                                     bool(needs.options[0]))
        return wanted

    def stats(self) -> list[dict]:
        """Each camera's plate reader counters."""
        return self.consumer_stats("plates")
