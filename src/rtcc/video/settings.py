"""Video settings: recording, retention, live view, camera health and motion thresholds."""

from __future__ import annotations

from pydantic import Field

from rtcc.cameras.settings import CameraSettings


class VideoSettings(CameraSettings):
    """Recording, retention, live view, camera health and motion."""

    recording_enabled: bool = Field(
        default=True, description="Record every camera whose record_mode is continuous and that has a stream URL."
    )
    segment_seconds: int = Field(
        default=6, ge=1, le=10, description="Length of each recorded segment; a crash loses at most one segment."
    )
    recorder_reconcile_seconds: float = Field(
        default=3.0, ge=0.5, le=300, description="How often the recorder checks the registry for cameras to start or stop."
    )
    stream_io_timeout_seconds: int = Field(
        default=10, ge=2, le=120, description="A camera silent this long is reconnected (and reported offline)."
    )
    motion_event_min_seconds: int = Field(
        default=60, ge=5, le=3600,
        description="Motion on a camera's health sub-stream is announced (camera.motion, which wakes its wall tile) at most this often.",
    )
    health_frame_width: int = Field(
        default=64, ge=16, le=640,
        description="Camera health judges grey frames of the sub-stream scaled to this width (pixels); the thresholds "
                    "below suit 64x36 (docs/camera-health.md).",
    )
    health_frame_height: int = Field(default=36, ge=9, le=360, description="Height of the camera health frames (pixels).")
    health_sample_fps: float = Field(
        default=1.0, ge=0.1, le=10, description="Camera health frames judged per second of a camera's sub-stream."
    )
    health_black_max_brightness: float = Field(
        default=16.0, ge=0, le=255, description="A picture darker than this mean grey level (0-255) counts as black."
    )
    health_black_seconds: float = Field(
        default=5.0, ge=0.5, le=3600, description="A picture black this long marks the camera black."
    )
    health_frozen_seconds: float = Field(
        default=20.0, ge=1, le=3600,
        description="Identical frames this long mark the camera frozen; must outlast the camera's keyframe interval.",
    )
    health_covered_max_detail: float = Field(
        default=8.0, ge=0, le=128,
        description="A picture with less detail than this (grey standard deviation) counts as covered, where its learnt "
                    "view had detail.",
    )
    health_covered_seconds: float = Field(
        default=3.0, ge=0.5, le=3600, description="A picture covered this long marks the camera tamper_covered."
    )
    health_moved_max_correlation: float = Field(
        default=0.5, ge=-1, le=1,
        description="A picture correlating less than this with the learnt view counts as moved (re-aimed).",
    )
    health_moved_seconds: float = Field(
        default=10.0, ge=1, le=3600, description="A picture moved this long marks the camera tamper_moved."
    )
    health_moved_relearn_seconds: float = Field(
        default=900.0, ge=0, le=86_400,
        description="A camera moved this long has its new view learnt as its view (the alert was raised); 0: never.",
    )
    health_clear_seconds: float = Field(
        default=2.0, ge=0, le=600, description="A health condition clears once the picture has been fine this long."
    )
    motion_pixel_change: float = Field(
        default=20.0, ge=1, le=255,
        description="Motion: a health-frame pixel changed when it moved more than this many grey levels since the last frame.",
    )
    motion_changed_fraction: float = Field(
        default=0.02, ge=0.001, le=1, description="Motion: the picture moves when at least this fraction of its pixels changed."
    )
    ffmpeg_path: str = Field(default="ffmpeg", min_length=1, description="The ffmpeg executable that records streams.")
    retention_days: int = Field(
        default=30, ge=1, le=3650, description="Maximum age of recorded video until a continuous_video or event_clips retention policy is set; cameras may keep less."
    )
    video_disk_quota_gb: float = Field(
        default=0, ge=0, le=1_000_000,
        description="Most disk the recordings may use; oldest unprotected segments go first. 0 means no quota.",
    )
    event_pre_roll_seconds: int = Field(
        default=30, ge=0, le=3600, description="Event-only cameras keep this much video before each mark."
    )
    event_post_roll_seconds: int = Field(
        default=60, ge=0, le=3600, description="Event-only cameras keep this much video after each mark."
    )
    event_buffer_seconds: int = Field(
        default=120, ge=10, le=86_400,
        description="Unmarked video of event-only cameras waits this long for a late mark before it is purged.",
    )
    recording_salvage_days: int = Field(
        default=2, ge=0, le=3650,
        description="On start, segment files of the last this many days that the index lacks are salvaged (incoming/ always).",
    )
    retention_sweep_minutes: float = Field(
        default=10, ge=0.1, le=1440, description="How often the retention engine purges every data class past its policy (holds kept, receipts written)."
    )
    live_idle_stop_seconds: float = Field(
        default=15, ge=0, le=3600, description="A camera's live upstream is closed this long after its last viewer leaves."
    )
    live_viewer_queue_fragments: int = Field(
        default=60, ge=5, le=1000, description="Fragments queued per live viewer; a slower viewer skips to the next keyframe."
    )
    live_fragment_ms: int = Field(
        default=100, ge=20, le=2000, description="Length of live fMP4 fragments: the relay's share of the latency."
    )

    def frame_health_thresholds(self) -> dict[str, float | None]:
        """The camera health analyser's thresholds (video.health.FrameHealthAnalyser keywords)."""
        return {
            "black_max_brightness": self.health_black_max_brightness, "black_seconds": self.health_black_seconds,
            "frozen_seconds": self.health_frozen_seconds, "covered_max_detail": self.health_covered_max_detail,
            "covered_seconds": self.health_covered_seconds, "moved_max_correlation": self.health_moved_max_correlation,
            "moved_seconds": self.health_moved_seconds, "moved_relearn_seconds": self.health_moved_relearn_seconds or None,
            "clear_seconds": self.health_clear_seconds,
        }

    def motion_detector_thresholds(self) -> dict[str, float]:
        """The motion detector's thresholds (video.health.MotionDetector keywords)."""
        return {"pixel_change": self.motion_pixel_change, "changed_fraction": self.motion_changed_fraction,
                "min_interval_s": self.motion_event_min_seconds}
