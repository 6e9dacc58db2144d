"""The "health" consumer kind: black, frozen, covered or moved pictures and motion, from tiny grey frames."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rtcc.video.analytics.health import FrameHealthAnalyser, MotionDetector
from rtcc.video.pipeline.consumers import (
    ConsumerContext,
    ConsumerKind,
    DecodedFrame,
    FrameNeeds,
    register_consumer_kind,
)

if TYPE_CHECKING:
    from rtcc.cameras.models import Camera
    from rtcc.core.runtime import Runtime

# The analyser's thresholds are tuned for this (docs/camera-health.md): the default settings' needs.
HEALTH_NEEDS = FrameNeeds(width=64, height=36, fps=1.0, colour=False, stream="sub")


def health_needs(settings) -> FrameNeeds:
    """Grey sub-stream frames of RTCC_HEALTH_FRAME_WIDTH x RTCC_HEALTH_FRAME_HEIGHT at RTCC_HEALTH_SAMPLE_FPS."""
    return FrameNeeds(width=settings.health_frame_width, height=settings.health_frame_height,
                      fps=settings.health_sample_fps, colour=False, stream="sub")


class HealthConsumer:
    """Feeds the analyser and the motion detector; a changed verdict or an onset of motion goes to `events`."""

    def __init__(self, *, camera_id: int, events, analyser: FrameHealthAnalyser, motion: MotionDetector):
        self.camera_id = camera_id
        self.events = events  # health_changed(camera_id, verdict) and motion(camera_id), both coroutines
        self.analyser, self.motion = analyser, motion
        self.verdict = "ok"

    async def consume(self, frame: DecodedFrame) -> None:
        """Judge the frame; report what changed."""
        verdict = self.analyser.feed(frame.pixels, frame.monotonic_s)
        if self.motion.feed(frame.pixels, frame.monotonic_s) and verdict == "ok":
            await self.events.motion(self.camera_id)
        if verdict != self.verdict:
            self.verdict = verdict
            await self.events.health_changed(self.camera_id, verdict)

    async def close(self) -> None:
        """Nothing is open: a verdict lives in the camera's status."""

    def stats(self) -> dict:
        return {"verdict": self.verdict}


def wants_health(camera: Camera, runtime: Runtime, recorded: bool) -> FrameNeeds | None:
    """A recorded camera with a sub-stream has its picture watched; others do not (the main stream costs too much)."""
    return health_needs(runtime.settings) if recorded and camera.sub_stream_url else None


def build_health(context: ConsumerContext) -> HealthConsumer:
    """One camera's health consumer."""
    settings = context.runtime.settings  # thresholds: RTCC_HEALTH_*, RTCC_MOTION_* (docs/camera-health.md)
    return HealthConsumer(camera_id=context.camera_id, events=context.events,
                          analyser=FrameHealthAnalyser(**settings.frame_health_thresholds()),
                          motion=MotionDetector(**settings.motion_detector_thresholds()))


HEALTH = register_consumer_kind(ConsumerKind("health", wants=wants_health, build=build_health))
