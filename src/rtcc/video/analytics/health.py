"""Camera health from a tiny low-fps sub-stream: black, frozen, covered or moved pictures, stale and offline streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import numpy as np

from rtcc.video.pipeline.consumers import ConsumerFeed, DecodedFrame, FrameNeeds
from rtcc.video.pipeline.decoder import SubStreamDecoder
from rtcc.video.analytics.privacy import Polygon

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


# A sampled frame is a decoded frame of the camera pipeline (grey pixels, monotonic and wall-clock time).
SampledFrame = DecodedFrame


class _Frames:
    """A consumer that hands its frames to an async iterator (frames() below), one at a time."""

    def __init__(self):
        self.queue: asyncio.Queue[DecodedFrame | None] = asyncio.Queue(maxsize=1)

    async def consume(self, frame: DecodedFrame) -> None:
        await self.queue.put(frame)

    async def close(self) -> None:
        await self.queue.put(None)

    def stats(self) -> dict:
        return {}


class SubStreamSampler:
    """Tiny grey frames at low fps from one camera stream, on their own: a SubStreamDecoder with one consumer.

    The server's cameras share one decoder per camera (rtcc.video.pipeline); this is for a caller that wants
    health frames of a stream by themselves (tests, tools).
    """

    def __init__(self, url: str, *, ffmpeg: str = "ffmpeg", fps: float = 1.0, width: int = 64, height: int = 36,
                 stale_after_s: float = 10.0, io_timeout_s: int = 10, max_backoff_s: float = 60.0, queue_frames: int = 4,
                 privacy_masks: Iterable[Polygon] = (),
                 on_status: Callable[[str, str | None], Awaitable[None]] | None = None):
        needs = FrameNeeds(width=width, height=height, fps=fps)
        self._frames = _Frames()
        self.feed = ConsumerFeed("health", self._frames, needs, queue_frames=queue_frames, decoded_fps=fps)
        self.decoder = SubStreamDecoder(url, needs=needs, ffmpeg=ffmpeg, io_timeout_s=io_timeout_s,
                                        stale_after_s=stale_after_s, max_backoff_s=max_backoff_s,
                                        privacy_masks=privacy_masks, feeds=[self.feed], on_status=on_status)

    @property
    def status(self) -> tuple[str, str | None]:
        return self.decoder.status

    @property
    def frames_dropped(self) -> int:
        """Frames thrown away because the consumer fell behind."""
        return self.feed.frames_dropped

    def command(self) -> list[str]:
        """ffmpeg decoding only the sub-stream, only fps frames a second, only width x height grey pixels."""
        return self.decoder.command()

    async def frames(self) -> AsyncIterator[SampledFrame]:
        """Frames until stop() (or aclose()); stream trouble shows in .status and on_status, never as an exception."""
        tasks = [asyncio.create_task(self.decoder.run(), name=f"sample {urlsplit(self.decoder.url).hostname or 'file'}"),
                 asyncio.create_task(self.feed.run())]
        try:
            while (frame := await self._frames.queue.get()) is not None:
                yield frame
        finally:
            await self.stop()
            while not all(task.done() for task in tasks):  # the feed may be waiting to hand over one more frame
                with contextlib.suppress(asyncio.QueueEmpty):
                    self._frames.queue.get_nowait()
                await asyncio.sleep(0.01)
            await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Stop sampling; frames() ends."""
        await self.decoder.stop()


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
