"""Plate settings: reading from video (rate, frame sizes, motion gate), hotlists, reads, alerts, MQTT."""

from __future__ import annotations

from pydantic import Field, field_validator

from rtcc.video.settings import VideoSettings


class AlprSettings(VideoSettings):
    """Plate reading from video, hotlists, plate reads and alerts, MQTT devices."""

    video_reads_enabled: bool = Field(
        default=True, description="Read plates from the video of cameras whose reads_plates is set (false: of none)."
    )
    video_reads_fps: float = Field(
        default=2.0, ge=0.2, le=15,
        description="Frames a second decoded for plate reading; each read costs ~0.3 s of a core, the motion gate skips most.",
    )
    video_reads_sub_stream_width: int = Field(
        default=640, ge=160, le=3840,
        description="Plate reading from a sub-stream scales its frames to this width (at 640x360 a plate is ~30 px tall).",
    )
    video_reads_sub_stream_height: int = Field(
        default=360, ge=90, le=2160, description="Height plate reading scales sub-stream frames to."
    )
    video_reads_main_stream_width: int = Field(
        default=1280, ge=160, le=3840,
        description="Plate reading from a camera with no sub-stream scales its main stream to this width (~4x the decode).",
    )
    video_reads_main_stream_height: int = Field(
        default=720, ge=90, le=2160, description="Height plate reading scales main-stream frames to."
    )
    video_reads_motion_threshold: float = Field(
        default=1.5, ge=0, le=255,
        description="Motion gate: a frame is read when its tiny grey copy differs from the last one by at least this "
                    "mean grey level (0: read every frame).",
    )
    video_reads_motion_read_every: int = Field(
        default=10, ge=1, le=1000,
        description="Motion gate: a frame is read at least every this many frames anyway (a crawling queue moves little).",
    )
    video_read_detector_side: int = Field(
        default=384, ge=160, le=1600,
        description="Plate reading from video: the text detector's input, longest side in pixels (a 640x360 "
                    "sub-stream frame is reduced to it); smaller is cheaper but misses smaller plates.",
    )
    video_read_settle_reads: int = Field(
        default=1, ge=1, le=10,
        description="Plate reading from video: reads of a followed plate box that must agree before its read is "
                    "carried to the next frames without OCR.",
    )
    video_read_settle_confidence: float = Field(
        default=0.9, ge=0.0, le=1.0,
        description="Plate reading from video: confidence those reads need (a box that stands still settles at any).",
    )
    video_read_recheck_frames: int = Field(
        default=10, ge=1, le=1000,
        description="Plate reading from video: a settled plate box is read again after this many carried frames.",
    )
    video_read_match_similarity: float = Field(
        default=0.8, ge=-1.0, le=1.0,
        description="Plate reading from video: how well a box's grey pixels must match a followed plate's "
                    "(normalised correlation) to continue it into the next frame, besides its predicted position.",
    )
    alpr_region: str = Field(
        default="us", max_length=16,
        description="Plate formats the server's plate reading decodes with: us (US states), eu (EU countries) or "
                    "br (Brazil); position in the region's formats decides O/0, I/1, B/8, S/5, Z/2.",
    )
    hotlist_import_paths: list[str] = Field(
        default_factory=list, max_length=100,
        description="Hotlists refreshed from files, as NAME=PATH (CSV or .json); each file is a full extract. "
                    'Environment: a JSON list, e.g. ["NCIC stolen=/srv/ncic/stolen.csv"].',
    )
    hotlist_import_minutes: float = Field(
        default=15, ge=0.1, le=1440, description="How often the hotlist files are checked for a new extract."
    )
    read_retention_days: int = Field(
        default=30, ge=1, le=3650, description="Plate reads that matched no hotlist are deleted after this many days, until a plate_reads retention policy is set."
    )
    alert_dedupe_seconds: int = Field(
        default=300, ge=0, le=86_400,
        description="Reads of the same plate by the same camera within this window fold into one alert.",
    )
    mqtt_url: str = Field(
        default="", max_length=500,
        description="MQTT broker that ALPR devices publish reads to (mqtt://host:1883); empty: no MQTT ingestion. "
                    "Topics: rtcc/alpr/<rtcc|openalpr|frigate>/...",
    )
    mqtt_frigate_topic: str = Field(
        default="frigate/events", max_length=200, description="Frigate's events topic, read for plate events (empty: off)."
    )

    @field_validator("alpr_region")
    @classmethod
    def _alpr_region_has_formats(cls, value: str) -> str:
        # Refuse at start, not at the first plate: each region is a formats file beside the reader.
        from rtcc.alpr.reader.formats import available_regions  # the reader (numpy, cv2) only when it is set

        region = value.strip().lower()
        if region not in available_regions():
            raise ValueError(f"unknown plate region {value!r}: known regions are {', '.join(available_regions())}")
        return region

    def plate_frame_size(self, stream: str) -> tuple[int, int]:
        """Width and height plate reading scales a camera's "sub" or "main" stream to."""
        if stream == "main":
            return self.video_reads_main_stream_width, self.video_reads_main_stream_height
        return self.video_reads_sub_stream_width, self.video_reads_sub_stream_height

    def motion_gate_thresholds(self) -> dict[str, float]:
        """The plate reader's motion gate (alpr.video_reads.MotionGate keywords)."""
        return {"threshold": self.video_reads_motion_threshold, "read_at_least_every": self.video_reads_motion_read_every}
