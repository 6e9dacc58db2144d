"""Consumers of a camera's decoded frames: what each kind needs, and one bounded queue per consumer.

A consumer kind (health, plates, later redaction previews or a drone's analytics) is registered once, by name,
with what it needs from a camera's frames and how to build one consumer; the camera's single decoder then
decodes at the largest size and rate any of its consumers needs, and each consumer gets its frames resized
to its own size, at its own rate, through its own queue. A consumer that falls behind loses its oldest frames
(counted in its stats), never the others' frames and never the decoder's pace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np

if TYPE_CHECKING:
    from rtcc.cameras.models import Camera
    from rtcc.core.runtime import Runtime

log = logging.getLogger(__name__)

STREAMS = ("sub", "main")  # which of a camera's streams a decoder reads


@dataclass(frozen=True)
class DecodedFrame:
    """One frame from a camera's decoder: grey (height x width) or BGR (height x width x 3) uint8 pixels."""

    pixels: np.ndarray
    monotonic_s: float
    captured_at: datetime


@dataclass(frozen=True)
class FrameNeeds:
    """What a consumer needs: which stream, at what size and rate, in colour (BGR) or grey.

    `options` carries the kind's own hashable settings for a camera: when they change, the consumer is rebuilt.
    """

    width: int
    height: int
    fps: float
    colour: bool = False
    stream: str = "sub"
    options: tuple = ()


def decoding_for(needs: Iterable[FrameNeeds]) -> FrameNeeds:
    """The one decode that serves every need: the main stream if any needs it, the largest size, the highest rate."""
    needs = list(needs)
    if not needs:
        raise ValueError("a decoder needs at least one consumer")
    largest = max(needs, key=lambda need: need.width * need.height)
    return FrameNeeds(width=largest.width, height=largest.height, fps=max(need.fps for need in needs),
                      colour=any(need.colour for need in needs),
                      stream="main" if any(need.stream == "main" for need in needs) else "sub")


def fit_frame(frame: DecodedFrame, needs: FrameNeeds) -> DecodedFrame:
    """The frame as this consumer wants it: grey if it asked for grey, at its size (area averaging, like binning)."""
    pixels = frame.pixels
    if not needs.colour and pixels.ndim == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    if pixels.shape[1] != needs.width or pixels.shape[0] != needs.height:
        pixels = cv2.resize(pixels, (needs.width, needs.height), interpolation=cv2.INTER_AREA)
    if pixels is frame.pixels:
        return frame
    return DecodedFrame(pixels, frame.monotonic_s, frame.captured_at)


class FrameConsumer(Protocol):
    """What the pipeline asks of a consumer."""

    async def consume(self, frame: DecodedFrame) -> None:
        """Take one frame (already at the consumer's size and colour)."""

    async def close(self) -> None:
        """No more frames: finish what is open (a plate reader stores its open passes)."""

    def stats(self) -> dict:
        """Counters for the status page."""


@dataclass(frozen=True)
class ConsumerContext:
    """What a consumer kind is given to build one camera's consumer."""

    runtime: Runtime
    camera_id: int
    stream: str  # the stream the camera's decoder reads ("sub" or "main")
    needs: FrameNeeds  # this consumer's own needs (its options included)
    services: Mapping[str, Any] = field(default_factory=dict)  # shared services (hotlists, ...), by name
    events: Any = None  # where camera-level findings go (the supervisor: health_changed, motion)


@dataclass(frozen=True)
class ConsumerKind:
    """A kind of consumer: `wants(camera, runtime, recorded)` says what it needs of a camera (None: nothing)."""

    name: str
    wants: Callable[[Camera, Runtime, bool], FrameNeeds | None]
    build: Callable[[ConsumerContext], FrameConsumer]


CONSUMER_KINDS: dict[str, ConsumerKind] = {}


def register_consumer_kind(kind: ConsumerKind) -> ConsumerKind:
    """Make a kind available by name (a module that defines one registers it when imported)."""
    CONSUMER_KINDS[kind.name] = kind
    return kind


def consumer_kind(name: str) -> ConsumerKind:
    """The registered kind of that name."""
    try:
        return CONSUMER_KINDS[name]
    except KeyError:
        raise KeyError(f"no consumer kind {name!r} (registered: {sorted(CONSUMER_KINDS)})") from None


class ConsumerFeed:
    """One consumer's bounded queue: frames at its own rate; the oldest dropped (and counted) when it lags."""

    def __init__(self, kind: str, consumer: FrameConsumer, needs: FrameNeeds, *, queue_frames: int = 4,
                 decoded_fps: float | None = None):
        self.kind = kind
        # A consumer that wants every frame the decoder makes gets every one, however unevenly they arrive.
        self.every_frame = decoded_fps is not None and needs.fps >= decoded_fps
        self.consumer = consumer
        self.needs = needs
        self.frames_offered = 0  # frames the decoder handed over at this consumer's rate
        self.frames_dropped = 0  # of those, thrown away because the consumer fell behind
        self.frames_consumed = 0
        self._queue: asyncio.Queue[DecodedFrame | None] = asyncio.Queue(maxsize=queue_frames)
        self._last_offered_s: float | None = None

    def offer(self, frame: DecodedFrame) -> None:
        """Queue a frame if this consumer's rate wants it; a lagging consumer loses its oldest frame."""
        # A tenth of the interval is slack: frames at 2 fps arrive ~0.5 s apart, and a 1 fps consumer takes every other.
        if (not self.every_frame and self._last_offered_s is not None
                and frame.monotonic_s - self._last_offered_s < 0.9 / self.needs.fps):
            return
        self._last_offered_s = frame.monotonic_s
        self.frames_offered += 1
        self._put(frame)

    def end(self, *, discard_queued: bool = False) -> None:
        """No more frames: the consumer finishes what is queued (or drops it, stopping), then closes."""
        while discard_queued and not self._queue.empty():
            self._queue.get_nowait()
        self._put(None)

    def _put(self, item: DecodedFrame | None) -> None:
        if self._queue.full():
            if self._queue.get_nowait() is None:  # never drop the end: put it back behind nothing
                self._queue.put_nowait(None)
                return
            self.frames_dropped += 1
        self._queue.put_nowait(item)

    async def run(self) -> None:
        """Hand frames to the consumer until end(); then close it. A consumer's error skips that frame only."""
        try:
            while (frame := await self._queue.get()) is not None:
                try:
                    await self.consumer.consume(fit_frame(frame, self.needs))
                    self.frames_consumed += 1
                except Exception:  # one bad frame must not end the consumer, nor the camera's other consumers
                    log.exception("%s consumer failed on a frame", self.kind)
        finally:
            await self.consumer.close()

    def stats(self) -> dict:
        """The queue's counters beside the consumer's own."""
        return {"kind": self.kind, "frames_offered": self.frames_offered, "frames_dropped": self.frames_dropped,
                "frames_consumed": self.frames_consumed, **self.consumer.stats()}
