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
import os
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from sqlalchemy import select

from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.main_crops import PassToSharpen, cut_sharper_crop, recording_covering
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.alpr.video_reads import MotionGate, PlateTracker, VehiclePass, write_crop
from rtcc.cameras.models import Camera
from rtcc.cameras.service import stream_url_for_ingest
from rtcc.cameras.stream_urls import StreamSourceRefused
from rtcc.cameras.streams import rtsp_transport_of
from rtcc.core import clock
from rtcc.core.database import run_write
from rtcc.core.runtime import Runtime
from rtcc.video.child_process import collect_stderr, signal_if_running, wait_or_kill
from rtcc.video.privacy import apply_mask_to_frame

log = logging.getLogger(__name__)

FRAME_SIZES = {"sub": (640, 360), "main": (1280, 720)}


def reads_plates(camera: Camera) -> bool:
    """Whether plates are read from this camera's video: its own reads_plates field (opt-in)."""
    return bool(camera.reads_plates)


@dataclass
class Frame:
    pixels: np.ndarray  # BGR, height x width x 3
    captured_at: datetime


class CameraPlateReader:
    """Reads plates from one camera's video for as long as it runs; reconnects with backoff; stop() ends it."""

    def __init__(self, *, runtime: Runtime, hotlists: HotlistCache, camera_id: int, url: str, source: str = "sub",
                 fps: float = 2.0, width: int | None = None, height: int | None = None, privacy_masks=(),
                 tracker: PlateTracker | None = None, gate: MotionGate | None = None, reader=None, region: str = "us",
                 queue_frames: int = 4, io_timeout_s: int = 10, stale_after_s: float = 10.0, max_backoff_s: float = 60.0,
                 sharpen_from_recording: bool = False):
        if source not in FRAME_SIZES:
            raise ValueError(f"source must be 'sub' or 'main', not {source!r}")
        self.runtime, self.hotlists, self.camera_id, self.url, self.source = runtime, hotlists, camera_id, url, source
        self.fps = fps
        # ffmpeg scales to a fixed size so every frame has a known byte count (a non-16:9 camera is stretched).
        self.width, self.height = width or FRAME_SIZES[source][0], height or FRAME_SIZES[source][1]
        self.privacy_masks = list(privacy_masks or [])  # painted out before the reader sees a frame
        self.tracker = tracker or PlateTracker()
        self.gate = gate or MotionGate()
        self.region = region
        self._reader = reader  # made in the worker thread on first use: loading models takes a second
        self._reader_lock = threading.Lock()  # frames and crop sharpening read from two threads
        # Read from the sub-stream and recorded from the main one: each stored pass's crop is cut again from
        # the recording at the main stream's size once its segment closes (rtcc.alpr.main_crops).
        self.sharpen_from_recording = sharpen_from_recording and source == "sub"
        self._sharpening: set[asyncio.Task] = set()
        self.io_timeout_s, self.stale_after_s, self.max_backoff_s = io_timeout_s, stale_after_s, max_backoff_s
        self.status = "connecting"
        self.frames_decoded = self.frames_dropped = self.passes_stored = self.alerts = self.store_failures = 0
        self.crops_sharpened = 0
        self.read_seconds = 0.0  # time spent in the reader, for CPU budgeting
        self.started_monotonic: float | None = None
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=queue_frames)
        # Passes the database would not take yet (busy past every retry): stored again before newer ones.
        self._unstored: list[VehiclePass] = []
        self._retry_unstored_at = 0.0
        self._stopping = asyncio.Event()
        self._process: asyncio.subprocess.Process | None = None

    def command(self) -> list[str]:
        """ffmpeg decoding the stream at fps frames a second into BGR pixels of a fixed size."""
        url, transport = rtsp_transport_of(self.url)
        scheme = urlsplit(url).scheme.lower()
        timeout_us = str(self.io_timeout_s * 1_000_000)
        if scheme in ("rtsp", "rtsps"):
            source = ["-rtsp_transport", transport, "-timeout", timeout_us, "-i", url]
        elif scheme == "file":
            source = ["-re", "-stream_loop", "-1", "-i", urlsplit(url).path]
        else:
            source = ["-rw_timeout", timeout_us, "-i", url]
        return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", *source, "-an", "-sn", "-dn",
                "-vf", f"fps={self.fps},scale={self.width}:{self.height}", "-pix_fmt", "bgr24", "-f", "rawvideo", "pipe:1"]

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
        """Decode, gate, read, track and store until stop(); open passes are stored on the way out."""
        self.started_monotonic = time.monotonic()
        decoder = asyncio.create_task(self._decode_forever(), name=f"alpr-decode-cam{self.camera_id}")
        try:
            while not self._stopping.is_set():
                frame_task = asyncio.ensure_future(self._queue.get())
                stop_task = asyncio.ensure_future(self._stopping.wait())
                await asyncio.wait({frame_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
                stop_task.cancel()
                if not frame_task.done():
                    frame_task.cancel()
                    break
                await self._handle(frame_task.result())
        finally:
            self._stopping.set()
            self._terminate()
            with contextlib.suppress(asyncio.CancelledError):
                await decoder
            for vehicle_pass in self.tracker.flush():
                await self._store(vehicle_pass)
            await self._store_unstored()
            for vehicle_pass in self._unstored:  # the database stayed unavailable to the end: say what is lost
                log.error("plate read %s from camera %s at %s could not be stored", vehicle_pass.plate, self.camera_id,
                          clock.iso(vehicle_pass.best_seen or vehicle_pass.first_seen))
            # Crops still waiting for their recording give up now (the recorder is stopping too); one being cut ends.
            await asyncio.gather(*self._sharpening, return_exceptions=True)
            self.status = "stopped"

    async def stop(self) -> None:
        """Ask run() to end (it stores the passes still open)."""
        self._stopping.set()
        self._terminate()

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
                from rtcc.alpr.frame_reading import (
                    VideoFramePlateReader,  # onnxruntime is heavy: loaded only where plates are read
                )

                self._reader = VideoFramePlateReader.from_settings(self.runtime.settings, region=self.region)
            if video_frame:
                from rtcc.alpr.frame_reading import read_video_frame

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

    def _offer(self, frame: Frame) -> None:
        """Queue a frame, dropping the oldest when the reader lags: a late read of a gone car is worth less."""
        if self._queue.full():
            self._queue.get_nowait()
            self.frames_dropped += 1
        self._queue.put_nowait(frame)

    async def _decode_forever(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                had_frames = await self._decode_once()
            except Exception:  # a decode bug must not end reading for good: back off and retry
                log.exception("plate-reading decoder for camera %s failed", self.camera_id)
                had_frames = False
            if self._stopping.is_set():
                break
            self.status = "reconnecting"
            backoff = 1.0 if had_frames else min(backoff * 2, self.max_backoff_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=backoff)

    async def _decode_once(self) -> bool:
        """One ffmpeg run; whether it delivered any frame."""
        self._process = await asyncio.create_subprocess_exec(
            *self.command(), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True, env={**os.environ, "TZ": "UTC"})
        last_words: deque[str] = deque(maxlen=10)
        stderr_reader = asyncio.create_task(self._read_stderr(last_words))
        frame_bytes = self.width * self.height * 3
        had_frames = False
        try:
            while not self._stopping.is_set():
                timeout = self.stale_after_s if had_frames else self.stale_after_s + self.io_timeout_s
                try:
                    raw = await asyncio.wait_for(self._process.stdout.readexactly(frame_bytes), timeout=timeout)
                except (TimeoutError, asyncio.IncompleteReadError):
                    break  # stale stream, or ffmpeg ended (refused, gone, bad URL)
                had_frames = True
                self.status = "online"
                self.frames_decoded += 1
                pixels = np.frombuffer(raw, dtype=np.uint8).reshape(self.height, self.width, 3)
                if self.privacy_masks:
                    pixels = apply_mask_to_frame(pixels, self.privacy_masks)
                self._offer(Frame(pixels, clock.utcnow()))
        finally:
            self._terminate()
            await self._wait_exit()
            await asyncio.gather(stderr_reader, return_exceptions=True)
        if not self._stopping.is_set():
            log.warning("camera %s plate stream ended: %s", self.camera_id, " | ".join(last_words)[-300:] or "no frame")
        return had_frames

    async def _read_stderr(self, sink: deque[str]) -> None:
        await collect_stderr(self._process, sink)

    def _terminate(self) -> None:
        signal_if_running(self._process, signal.SIGTERM)

    async def _wait_exit(self) -> None:
        await wait_or_kill(self._process, timeout_s=5)


class PlateReadingSupervisor:
    """Runs a CameraPlateReader for every camera that reads plates and has a stream; reconciles every few seconds."""

    def __init__(self, runtime: Runtime, hotlists: HotlistCache, *, reconcile_seconds: float = 5.0, source: str = "sub",
                 fps: float = 2.0):
        self.runtime, self.hotlists = runtime, hotlists
        self.reconcile_seconds, self.source, self.fps = reconcile_seconds, source, fps
        self.readers: dict[int, tuple[tuple, CameraPlateReader, asyncio.Task]] = {}
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        while not self._stopped.is_set():
            try:
                await self.reconcile()
            except Exception:  # a bad reconcile must not stop the readers already running
                log.exception("plate-reading reconcile failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=self.reconcile_seconds)

    def _wanted(self) -> dict[int, tuple]:
        with self.runtime.database.read_session() as db:
            cameras = db.execute(select(Camera).where(Camera.main_stream_url.is_not(None))).scalars().all()
            wanted = {}
            for camera in cameras:
                if not reads_plates(camera):
                    continue
                # A camera with no sub-stream is read from its main stream (at the main stream's size).
                source = self.source if camera.sub_stream_url else "main"
                try:
                    url = stream_url_for_ingest(camera, runtime=self.runtime, sub_stream=source == "sub")
                except StreamSourceRefused as error:
                    # One refused source (stored before the rule, or a name now resolving to loopback) skips
                    # that camera only; its recorder status already says why.
                    log.warning("plate reading skips camera %s: %s", camera.id, error)
                    continue
                if url:
                    recorded = self.runtime.settings.recording_enabled and camera.record_mode == "continuous"
                    wanted[camera.id] = (url, source, tuple(map(str, camera.privacy_masks or [])), camera.privacy_masks or [],
                                         recorded)
            return wanted

    async def reconcile(self) -> None:
        wanted = await asyncio.to_thread(self._wanted)
        if self._stopped.is_set():
            return
        for camera_id, (key, reader, task) in list(self.readers.items()):
            if camera_id not in wanted or wanted[camera_id][:3] != key or task.done():
                await self._stop_one(camera_id)
        for camera_id, (url, source, mask_key, masks, recorded) in wanted.items():
            if camera_id not in self.readers:
                reader = CameraPlateReader(runtime=self.runtime, hotlists=self.hotlists, camera_id=camera_id, url=url,
                                           source=source, fps=self.fps, privacy_masks=masks, sharpen_from_recording=recorded)
                task = asyncio.create_task(reader.run(), name=f"alpr-cam{camera_id}")
                self.readers[camera_id] = ((url, source, mask_key), reader, task)

    def stats(self) -> list[dict]:
        return [reader.stats() for _, reader, _ in self.readers.values()]

    async def _stop_one(self, camera_id: int) -> None:
        _, reader, task = self.readers.pop(camera_id)
        await reader.stop()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=15)

    async def stop(self) -> None:
        """Stop every reader (each stores its open passes); for good."""
        self._stopped.set()
        await asyncio.gather(*(self._stop_one(camera_id) for camera_id in list(self.readers)))
