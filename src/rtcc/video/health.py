"""Camera health from a tiny low-fps sub-stream: black, frozen, covered or moved pictures, stale and offline streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import numpy as np

from rtcc.cameras.streams import rtsp_transport_of
from rtcc.core import clock
from rtcc.video.child_process import collect_stderr, signal_if_running, wait_or_kill
from rtcc.video.privacy import Polygon, apply_mask_to_frame
from rtcc.video.recorder import classify_failure

log = logging.getLogger(__name__)

FRAME_VERDICTS = ("ok", "black", "frozen", "tamper_covered", "tamper_moved")
STREAM_STATES = ("connecting", "online", "stale", "offline", "stopped")
UP_STATUSES = frozenset({"up", "online", "ok", "recording"})


@dataclass(frozen=True)
class FrameMeasurement:
    """What one frame looked like, kept in the analyser's bounded history for diagnostics."""

    at_s: float
    brightness: float  # mean grey level, 0..255
    detail: float  # standard deviation of grey levels
    difference: float | None  # mean absolute difference from the previous frame
    correlation: float | None  # normalised correlation with the reference view, -1..1


class SustainedCondition:
    """A condition that counts once it has held raise_after_s, and stops once it has failed clear_after_s."""

    def __init__(self, raise_after_s: float, clear_after_s: float):
        self.raise_after_s = raise_after_s
        self.clear_after_s = clear_after_s
        self.active = False
        self._holding_since: float | None = None
        self._failing_since: float | None = None

    def update(self, holds: bool, at_s: float) -> bool:
        """Feed one observation; whether the condition is now raised."""
        if holds:
            self._failing_since = None
            self._holding_since = at_s if self._holding_since is None else self._holding_since
            if at_s - self._holding_since >= self.raise_after_s:
                self.active = True
        else:
            self._holding_since = None
            self._failing_since = at_s if self._failing_since is None else self._failing_since
            if self.active and at_s - self._failing_since >= self.clear_after_s:
                self.active = False
        return self.active

    def reset(self) -> None:
        self.active = False
        self._holding_since = self._failing_since = None


def normalised_correlation(first: np.ndarray, second: np.ndarray) -> float:
    """Pearson correlation of two frames' pixels; 0.0 when either is flat (nothing to correlate)."""
    a = first.astype(np.float32).ravel() - float(first.mean())
    b = second.astype(np.float32).ravel() - float(second.mean())
    denominator = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b) / denominator) if denominator > 1e-6 else 0.0


class FrameHealthAnalyser:
    """Judges a camera's picture from small grey frames fed in time order; thresholds are on 0..255 grey levels."""

    def __init__(self, *,
                 black_max_brightness: float = 16.0,
                 black_seconds: float = 5.0,
                 frozen_max_difference: float = 0.0,
                 frozen_seconds: float = 20.0,
                 covered_max_detail: float = 8.0,
                 covered_min_reference_detail: float = 20.0,
                 covered_seconds: float = 3.0,
                 moved_max_correlation: float = 0.5,
                 moved_seconds: float = 10.0,
                 moved_relearn_seconds: float | None = 900.0,
                 reference_time_constant_s: float = 120.0,
                 clear_seconds: float = 2.0,
                 history_frames: int = 120):
        """Defaults suit a 64x36 grey sub-stream at 1 fps; see docs/camera-health.md for why each is what it is."""
        # Black: mean grey below black_max_brightness (full range; a video-loss frame decodes to 0).
        self.black = SustainedCondition(black_seconds, clear_seconds)
        self.black_max_brightness = black_max_brightness
        # Frozen: consecutive frames identical. After H.264 and a 64x36 area downscale a live still scene moves
        # only ~0.001 grey levels a frame, but every keyframe or clock overlay tick moves it; a stuck encoder never.
        # So frozen_seconds must outlast the camera's keyframe interval (measured in docs/camera-health.md).
        self.frozen = SustainedCondition(frozen_seconds, clear_seconds)
        self.frozen_max_difference = frozen_max_difference
        # Covered: detail collapses while the learnt view had detail, so a uniform night scene never counts.
        self.covered = SustainedCondition(covered_seconds, clear_seconds)
        self.covered_max_detail = covered_max_detail
        self.covered_min_reference_detail = covered_min_reference_detail
        # Moved: the picture no longer correlates with the slowly learnt reference view.
        self.moved = SustainedCondition(moved_seconds, clear_seconds)
        self.moved_max_correlation = moved_max_correlation
        self.moved_relearn_seconds = moved_relearn_seconds
        self.reference_time_constant_s = reference_time_constant_s
        self.history: deque[FrameMeasurement] = deque(maxlen=history_frames)
        self.verdict = "ok"
        self._reference: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._previous_at_s: float | None = None
        self._moved_since_s: float | None = None

    def rebaseline(self) -> None:
        """Forget the learnt view (an operator accepted a camera's new aim); the next frame becomes it."""
        self._reference = None
        self.moved.reset()
        self.covered.reset()
        self._moved_since_s = None

    def feed(self, frame: np.ndarray, at_s: float) -> str:
        """Take the next grey frame (uint8, H x W) seen at at_s seconds; the verdict now."""
        pixels = np.asarray(frame, dtype=np.float32)
        if self._previous is not None and pixels.shape != self._previous.shape:
            self._previous = None  # the sampler's size changed: compare nothing across it
            self.rebaseline()
        brightness, detail = float(pixels.mean()), float(pixels.std())
        difference = float(np.abs(pixels - self._previous).mean()) if self._previous is not None else None
        correlation = normalised_correlation(pixels, self._reference) if self._reference is not None else None
        self.history.append(FrameMeasurement(at_s, brightness, detail, difference, correlation))

        black = self.black.update(brightness < self.black_max_brightness, at_s)
        frozen = self.frozen.update(difference is not None and difference <= self.frozen_max_difference, at_s)
        reference_detail = float(self._reference.std()) if self._reference is not None else 0.0
        # Dark and flat is black, not covered: the two never overlap, so a lost signal is never called tampering.
        covered = self.covered.update(
            detail <= self.covered_max_detail and brightness >= self.black_max_brightness
            and reference_detail >= self.covered_min_reference_detail, at_s)
        moved = self.moved.update(correlation is not None and correlation < self.moved_max_correlation
                                  and detail > self.covered_max_detail, at_s)

        if black:
            self.verdict = "black"
        elif frozen:
            self.verdict = "frozen"
        elif covered:
            self.verdict = "tamper_covered"
        elif moved:
            self.verdict = "tamper_moved"
        else:
            self.verdict = "ok"
        self._learn(pixels, at_s, moved)
        self._previous, self._previous_at_s = pixels, at_s
        return self.verdict

    def _learn(self, pixels: np.ndarray, at_s: float, moved: bool) -> None:
        """Blend the frame into the reference view unless it looks like trouble (trouble must not become normal)."""
        if self._reference is None:
            self._reference = pixels.copy()
            return
        if moved:
            # A camera re-aimed for good: after a long while its new view is the view (the alert was raised already).
            self._moved_since_s = at_s if self._moved_since_s is None else self._moved_since_s
            if self.moved_relearn_seconds is not None and at_s - self._moved_since_s >= self.moved_relearn_seconds:
                self._reference = pixels.copy()
                self.moved.reset()
                self._moved_since_s = None
            return
        self._moved_since_s = None
        last = self.history[-1]
        troubled = (last.brightness < self.black_max_brightness or last.detail <= self.covered_max_detail
                    or (last.correlation is not None and last.correlation < self.moved_max_correlation))
        if troubled and self._reference.std() >= self.covered_min_reference_detail:
            return
        elapsed = max(0.0, at_s - (self._previous_at_s if self._previous_at_s is not None else at_s))
        weight = min(1.0, elapsed / self.reference_time_constant_s)
        self._reference += weight * (pixels - self._reference)


class MotionDetector:
    """Something moving in the picture, from the same tiny grey frames: say so when it starts, not every second.

    A pixel changed when it moved more than `pixel_change` grey levels since the previous frame (sensor
    noise at 64x36 is a few levels); the picture moves when at least `changed_fraction` of its pixels did.
    An onset is reported at most once every `min_interval_s`, so a busy street is one event a minute.
    """

    def __init__(self, *, pixel_change: float = 20.0, changed_fraction: float = 0.02, min_interval_s: float = 60.0):
        self.pixel_change = pixel_change
        self.changed_fraction = changed_fraction
        self.min_interval_s = min_interval_s
        self._previous: np.ndarray | None = None
        self._reported_at_s: float | None = None

    def feed(self, frame: np.ndarray, at_s: float) -> bool:
        """Take the next grey frame; True when motion starts (and has not been reported lately)."""
        pixels = np.asarray(frame, dtype=np.int16)
        previous, self._previous = self._previous, pixels
        if previous is None or previous.shape != pixels.shape:
            return False
        moving = float((np.abs(pixels - previous) > self.pixel_change).mean()) >= self.changed_fraction
        # A scene that keeps moving is reported again once the interval has passed.
        due = self._reported_at_s is None or at_s - self._reported_at_s >= self.min_interval_s
        if moving and due:
            self._reported_at_s = at_s
            return True
        return False


@dataclass(frozen=True)
class SampledFrame:
    """One tiny grey frame from a camera's sub-stream."""

    pixels: np.ndarray  # uint8, height x width
    monotonic_s: float
    captured_at: datetime


class SubStreamSampler:
    """Keeps one ffmpeg decoding a camera's sub-stream to tiny grey frames at low fps; restarts with backoff."""

    def __init__(self, url: str, *, ffmpeg: str = "ffmpeg", fps: float = 1.0, width: int = 64, height: int = 36,
                 stale_after_s: float = 10.0, io_timeout_s: int = 10, max_backoff_s: float = 60.0, queue_frames: int = 4,
                 privacy_masks: Iterable[Polygon] = (),
                 on_status: Callable[[str, str | None], Awaitable[None]] | None = None):
        self.url = url
        self.privacy_masks = list(privacy_masks)  # painted out before any consumer sees a frame
        self.ffmpeg = ffmpeg
        self.fps = fps
        self.width = width
        self.height = height
        self.stale_after_s = stale_after_s
        self.io_timeout_s = io_timeout_s
        self.max_backoff_s = max_backoff_s
        self.on_status = on_status
        self.status: tuple[str, str | None] = ("connecting", None)
        self.frames_dropped = 0  # frames thrown away because the consumer fell behind
        self._queue: asyncio.Queue[SampledFrame | None] = asyncio.Queue(maxsize=queue_frames)
        self._stopping = asyncio.Event()
        self._process: asyncio.subprocess.Process | None = None

    def command(self) -> list[str]:
        """ffmpeg decoding only the sub-stream, only fps frames a second, only width x height grey pixels."""
        url, transport = rtsp_transport_of(self.url)
        parts = urlsplit(url)
        timeout_us = str(self.io_timeout_s * 1_000_000)
        if parts.scheme.lower() in ("rtsp", "rtsps"):
            source = ["-rtsp_transport", transport, "-timeout", timeout_us, "-i", url]
        elif parts.scheme.lower() == "file":
            source = ["-re", "-stream_loop", "-1", "-i", parts.path]
        else:
            source = ["-rw_timeout", timeout_us, "-i", url]
        return [self.ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", *source, "-an", "-sn", "-dn",
                # area scaling averages sensor noise away instead of aliasing it, like a camera's own binning.
                "-vf", f"fps={self.fps},scale={self.width}:{self.height}:flags=area,format=gray",
                "-f", "rawvideo", "pipe:1"]

    async def frames(self) -> AsyncIterator[SampledFrame]:
        """Frames until stop() (or aclose()); stream trouble shows in .status and on_status, never as an exception."""
        producer = asyncio.create_task(self._sample_forever(), name=f"sample {urlsplit(self.url).hostname or 'file'}")
        try:
            while (frame := await self._queue.get()) is not None:
                yield frame
        finally:
            await self.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await producer

    async def stop(self) -> None:
        """Stop sampling; frames() ends."""
        self._stopping.set()
        self._terminate()

    async def _set_status(self, state: str, detail: str | None = None) -> None:
        if (state, detail) != self.status:
            self.status = (state, detail)
            if self.on_status is not None:
                await self.on_status(state, detail)

    def _offer(self, item: SampledFrame | None) -> None:
        """Queue a frame, dropping the oldest when the consumer lags: health wants the newest picture."""
        if self._queue.full():
            self._queue.get_nowait()
            self.frames_dropped += 1
        self._queue.put_nowait(item)

    async def _sample_forever(self) -> None:
        backoff = 1.0
        try:
            while not self._stopping.is_set():
                had_frames = await self._sample_once()
                if self._stopping.is_set():
                    break
                backoff = 1.0 if had_frames else backoff
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
        except Exception:  # a sampler bug must end frames() cleanly, not leave a consumer waiting forever
            log.exception("sub-stream sampler for %s failed", urlsplit(self.url).hostname)
        finally:
            await self._set_status("stopped", None)
            self._offer(None)

    async def _sample_once(self) -> bool:
        """One ffmpeg run; whether it delivered any frame."""
        if self.status[0] not in ("stale", "offline"):
            await self._set_status("connecting", None)  # a retry keeps showing why it is retrying
        self._process = await asyncio.create_subprocess_exec(
            *self.command(), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True, env={**os.environ, "TZ": "UTC"})
        last_words: deque[str] = deque(maxlen=20)
        stderr_reader = asyncio.create_task(self._read_stderr(last_words))
        frame_bytes = self.width * self.height
        had_frames = False
        try:
            while not self._stopping.is_set():
                # The first frame may wait for a connection, the RTSP handshake and a keyframe.
                timeout = self.stale_after_s if had_frames else self.stale_after_s + self.io_timeout_s
                try:
                    raw = await asyncio.wait_for(self._process.stdout.readexactly(frame_bytes), timeout=timeout)
                except TimeoutError:
                    await self._set_status("stale", f"no frame for {timeout:.0f} s")
                    break
                except asyncio.IncompleteReadError:
                    break  # ffmpeg ended: connection refused, stream gone, or bad URL
                had_frames = True
                await self._set_status("online", None)
                pixels = np.frombuffer(raw, dtype=np.uint8).reshape(self.height, self.width)
                if self.privacy_masks:
                    pixels = apply_mask_to_frame(pixels, self.privacy_masks)
                self._offer(SampledFrame(pixels, time.monotonic(), clock.utcnow()))
        finally:
            self._terminate()
            await self._wait_exit()
            await asyncio.gather(stderr_reader, return_exceptions=True)
        if not self._stopping.is_set() and self.status[0] != "stale":
            kind, detail = classify_failure(list(last_words))
            await self._set_status("offline", f"{kind}: {detail}")
        return had_frames

    async def _read_stderr(self, sink: deque[str]) -> None:
        await collect_stderr(self._process, sink)

    def _terminate(self) -> None:
        signal_if_running(self._process, signal.SIGTERM)

    async def _wait_exit(self) -> None:
        await wait_or_kill(self._process, timeout_s=5)


def intervals_from_status_changes(changes: Iterable[tuple[datetime, str]], until: datetime) -> list[tuple[datetime, datetime, str]]:
    """Status change points (time order) as (start, end, status) intervals; the last lasts until `until`."""
    ordered = sorted(changes, key=lambda change: change[0])
    ends = [at for at, _ in ordered[1:]] + [until]
    return [(at, max(at, end), status) for (at, status), end in zip(ordered, ends)]


def uptime_percent(intervals: Iterable[tuple], window_start, window_end) -> float:
    """Percent of [window_start, window_end) covered by up intervals: (start, end) spans, or (start, end, status)."""
    if window_end <= window_start:
        raise ValueError("the window must end after it starts")
    clipped = []
    for interval in intervals:
        start, end = interval[0], interval[1]
        if len(interval) > 2 and str(interval[2]).lower() not in UP_STATUSES:
            continue
        end = window_end if end is None else end  # an open span (still recording) runs to the window's end
        start, end = max(start, window_start), min(end, window_end)
        if end > start:
            clipped.append((start, end))
    covered = 0.0
    current_start = current_end = None
    for start, end in sorted(clipped):
        if current_end is None or start > current_end:
            if current_end is not None:
                covered += _seconds(current_end - current_start)
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        covered += _seconds(current_end - current_start)
    return 100.0 * covered / _seconds(window_end - window_start)


def _seconds(span) -> float:
    return span.total_seconds() if isinstance(span, timedelta) else float(span)
