"""Settings: `RTCC_*` environment variables over an optional TOML file over documented defaults."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# The TOML file: given by the CLI's --config option, or the RTCC_CONFIG_FILE variable.
CONFIG_FILE_ENV = "RTCC_CONFIG_FILE"
_config_file: Path | None = None


def use_config_file(path: Path | None) -> None:
    """Read settings from this TOML file from now on (None: only RTCC_CONFIG_FILE, if set)."""
    global _config_file
    _config_file = path

DEFAULT_BANNER = (
    "You are accessing a criminal justice information system. Usage may be monitored, "
    "recorded and audited. Unauthorized use is prohibited and subject to criminal and civil "
    "penalties. Use of this system indicates consent to monitoring and recording."
)


class Settings(BaseSettings):
    """Every limit, retention and threshold of OpenRTCC, each with a description and bounds."""

    model_config = SettingsConfigDict(env_prefix="RTCC_", extra="forbid", validate_default=True)

    # --- storage ---
    data_dir: Path = Field(
        default=Path("./data"),
        description="Directory holding the SQLite file, media, keys and exports.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the system of record. Empty means SQLite at DATA_DIR/rtcc.sqlite3; "
            "postgresql+psycopg://user:pass@host/db selects PostgreSQL."
        ),
    )
    database_pool_size: int = Field(
        default=10, ge=1, le=200, description="Connections kept open to PostgreSQL per process."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=10_000, ge=100, le=600_000,
        description="How long a SQLite writer waits for the write lock before failing.",
    )
    database_write_attempts: int = Field(
        default=6, ge=1, le=50,
        description=(
            "Tries a background write (segment index, plate read, CAD call) gets when the database is busy, locked "
            "or deadlocked, with growing pauses between; an item that still fails is kept and retried later."
        ),
    )
    database_write_backoff_max_ms: int = Field(
        default=2_000, ge=10, le=60_000, description="Longest pause between two tries of a busy database write."
    )
    busy_retry_after_seconds: int = Field(
        default=2, ge=1, le=3600,
        description="Retry-After of a 503 answer (database busy or audit unavailable: nothing was stored; resend).",
    )
    data_group: str | None = Field(
        default=None, max_length=64,
        description=(
            "Group that may read the data dir (e.g. a backup account's); the server makes its files group-readable "
            "for it. Empty: only the server's own account can read them."
        ),
    )

    # --- bus ---
    bus_url: str = Field(
        default="inprocess://",
        description="Event bus: inprocess:// (single box) or nats://host:4222 (NATS JetStream).",
    )
    bus_stream: str = Field(
        default="RTCC", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
        description="JetStream stream name that holds OpenRTCC events (subjects <bus_subject_prefix>.>).",
    )
    bus_subject_prefix: str = Field(
        default="rtcc", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
        description="First token of the NATS subjects events go out on (<prefix>.<event type>). JetStream lets one "
                    "stream claim a subject, so two deployments (or test runs) sharing a NATS server each need their own.",
    )
    bus_subscriber_queue: int = Field(
        default=1000, ge=10, le=100_000,
        description="Events buffered per subscriber; past this the oldest are dropped and counted.",
    )

    # --- HTTP ---
    host: str = Field(default="127.0.0.1", description="Address the server listens on.")
    port: int = Field(default=8080, ge=1, le=65535, description="Port the server listens on.")
    max_request_bytes: int = Field(
        default=1_048_576, ge=1024, le=1_073_741_824,
        description="Largest request body accepted; larger bodies get HTTP 413.",
    )
    max_json_depth: int = Field(
        default=32, ge=2, le=256,
        description="Deepest nesting of arrays and objects a JSON body, upload or MQTT message may have; deeper gets HTTP 422 json_too_deep.",
    )
    onvif_timeout_seconds: float = Field(
        default=10, ge=1, le=60, description="How long ONVIF discovery waits for a device before giving up."
    )
    max_import_bytes: int = Field(
        default=67_108_864, ge=1024, le=4_294_967_296,
        description="Largest bulk-import upload (camera CSV/GeoJSON); larger uploads get HTTP 413.",
    )
    camera_import_max_rows: int = Field(
        default=100_000, ge=1, le=10_000_000, description="Most camera lines one import reads; the rest is reported."
    )
    camera_network_allowlist: list[str] = Field(
        default_factory=list, max_length=1000,
        description="Networks (CIDR) that camera stream and ONVIF discovery addresses may reach although they are "
                    "loopback, link-local, cloud-metadata or the server's own addresses (127.0.0.0/8 for simulated "
                    "cameras); the server's own HTTP port stays refused. Private ranges (10/8, 172.16/12, 192.168/16) "
                    'need no entry. Environment: a JSON list, e.g. ["127.0.0.0/8"].',
    )
    allow_file_streams: bool = Field(
        default=False,
        description="Let cameras take file:// sources (tests and demos only): a file URL reads the server's own disk.",
    )
    tls: bool = Field(
        default=False,
        description="Set when served over TLS (directly or behind a proxy): session cookies get the Secure flag.",
    )

    # --- accounts and sign-in (CJIS Security Policy 5.5, 5.6) ---
    password_min_length: int = Field(
        default=8, ge=8, le=128, description="Minimum password length (CJIS: at least 8)."
    )
    password_min_strength: int = Field(
        default=3, ge=0, le=4,
        description="Lowest zxcvbn strength score (0-4) a new password may have; 3 resists an offline guessing attack "
                    "on a slow hash, 0 turns the estimator off (the banned list and length still apply).",
    )
    password_hash_time_cost: int = Field(
        default=3, ge=1, le=20, description="Argon2id passes over memory per password hash (RFC 9106 low-memory: 3)."
    )
    password_hash_parallelism: int = Field(
        default=4, ge=1, le=64, description="Argon2id lanes per password hash (RFC 9106 low-memory: 4)."
    )
    password_hash_memory_kib: int = Field(
        default=65_536, ge=8, le=4_194_304,
        description="Argon2id memory per password hash in KiB (RFC 9106 low-memory: 65536 = 64 MiB); at least 8 x parallelism.",
    )
    lockout_attempts: int = Field(
        default=5, ge=1, le=5,
        description="Failed sign-ins within the lockout window that lock the account (CJIS: at most 5).",
    )
    lockout_window_minutes: int = Field(
        default=15, ge=1, le=1440, description="Window in which failed sign-ins are counted."
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, le=30, description="A session ends after this long without a request (CJIS: at most 30)."
    )
    session_max_hours: int = Field(
        default=12, ge=1, le=12, description="A session must re-authenticate after this long, active or not."
    )
    sign_in_pending_minutes: int = Field(
        default=10, ge=1, le=60,
        description="How long a half-finished sign-in (password accepted, MFA pending) stays valid.",
    )
    account_idle_days: int = Field(
        default=90, ge=1, le=365, description="Accounts not used for this many days are disabled."
    )
    account_sweep_minutes: float = Field(
        default=60, ge=0.1, le=1440,
        description="How often expired temporary accounts and accounts idle past account_idle_days are disabled.",
    )
    api_token_max_days: int = Field(
        default=365, ge=1, le=3650, description="Longest lifetime an API token may be issued with."
    )
    totp_issuer: str = Field(
        default="OpenRTCC", min_length=1, max_length=64, description="Issuer shown in authenticator apps."
    )
    totp_valid_window: int = Field(
        default=1, ge=0, le=2,
        description="TOTP steps of clock drift accepted either side of now (1 = plus or minus 30 s).",
    )
    system_use_banner: str = Field(
        default=DEFAULT_BANNER, min_length=20, max_length=4000,
        description="System-use notification that must be acknowledged at every sign-in.",
    )

    # --- recording ---
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
        default=30, ge=1, le=3650, description="Default maximum age of recorded video; cameras may set their own."
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
        default=10, ge=0.1, le=1440, description="How often expired and over-quota recordings are purged."
    )

    # --- plates ---
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
    hotlist_import_paths: list[str] = Field(
        default_factory=list, max_length=100,
        description="Hotlists refreshed from files, as NAME=PATH (CSV or .json); each file is a full extract. "
                    'Environment: a JSON list, e.g. ["NCIC stolen=/srv/ncic/stolen.csv"].',
    )
    hotlist_import_minutes: float = Field(
        default=15, ge=0.1, le=1440, description="How often the hotlist files are checked for a new extract."
    )
    read_retention_days: int = Field(
        default=30, ge=1, le=3650, description="Plate reads that matched no hotlist are deleted after this many days."
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

    # --- live view ---
    live_idle_stop_seconds: float = Field(
        default=15, ge=0, le=3600, description="A camera's live upstream is closed this long after its last viewer leaves."
    )
    live_viewer_queue_fragments: int = Field(
        default=60, ge=5, le=1000, description="Fragments queued per live viewer; a slower viewer skips to the next keyframe."
    )
    live_fragment_ms: int = Field(
        default=100, ge=20, le=2000, description="Length of live fMP4 fragments: the relay's share of the latency."
    )

    # --- calls for service and incidents ---
    incident_priority_at_most: int = Field(
        default=2, ge=0, le=9,
        description="Calls of this priority or more urgent (1 is the most urgent) open an incident; 0: none by priority.",
    )
    incident_call_types: list[str] = Field(
        default_factory=lambda: ["shots fired", "homicide", "robbery", "carjacking", "amber alert"], max_length=500,
        description="Call types (compared case-insensitively) that open an incident whatever their priority. "
                    'Environment: a JSON list, e.g. ["shots fired","robbery"].',
    )
    camera_selection_radius_m: float = Field(
        default=300, ge=10, le=5000,
        description="How far from an incident a camera that does not face it may stand and still be docked.",
    )
    camera_selection_dock_count: int = Field(
        default=4, ge=1, le=16, description="How many cameras are docked onto a new incident (the video wall's tiles)."
    )
    camera_selection_footage_candidates: int = Field(
        default=20, ge=0, le=500,
        description="How many nearby cameras that cannot be docked are listed for a footage request.",
    )
    cad_watch_dir: Path | None = Field(
        default=None,
        description="Folder watched for CAD export CSV files: each is imported once its size is stable, then moved "
                    "to processed/ (with a .report.json) or rejected/. Empty: off.",
    )
    cad_watch_poll_seconds: float = Field(
        default=5, ge=0.1, le=3600, description="How often the CAD folder is checked for new or finished files."
    )
    cad_agency_ori: str = Field(
        default="", pattern=r"^([A-Z0-9]{9})?$",
        description="ORI of the agency whose calls the CAD folder and `rtcc cad import` bring in; empty: DEMO_AGENCY_ORI.",
    )
    cad_time_zone: str = Field(
        default="UTC", min_length=1, max_length=64,
        description="IANA time zone of CAD times written without an offset (e.g. America/Los_Angeles).",
    )

    # --- field sharing ---
    share_default_minutes: int = Field(
        default=60, ge=1, le=10080, description="How long a link sent to a field officer works when the sender gives no time."
    )
    share_max_minutes: int = Field(
        default=720, ge=1, le=10080, description="Longest a link sent to a field officer may be made to work (minutes)."
    )

    # --- console ---
    map_tile_url: str = Field(
        default="", max_length=500,
        description="Map tile URL template for the console (e.g. an internal tile server's "
                    "https://tiles.city.gov/{z}/{x}/{y}.png). Empty: vector streets only, nothing fetched.",
    )

    # --- keys and audit integrity (docs/security.md, Audit trail) ---
    key_dir: Path | None = Field(
        default=None,
        description=(
            "Directory of the audit signing key and the secret-encryption key; in production outside the data dir "
            "and owned by another account. Empty: DATA_DIR/keys (demo). While it holds no keys, DATA_DIR/keys is used."
        ),
    )
    audit_checkpoint_log: Path | None = Field(
        default=None,
        description=(
            "Append-only JSON-lines log of signed audit checkpoints (sequence, head hash, time); keep it outside the "
            "data dir (chattr +a). Empty: KEY_DIR/audit-checkpoints.jsonl."
        ),
    )
    audit_checkpoint_minutes: float = Field(
        default=1.0, ge=0.1, le=1440,
        description=(
            "How often the server checkpoints the audit chain head (and once as it stops); a rollback to after the "
            "latest checkpoint goes unseen."
        ),
    )
    audit_checkpoint_peer_url: str = Field(
        default="", max_length=500,
        description=(
            "HTTPS URL of a peer centre that receives each checkpoint (POST JSON); empty: off. Plain http:// only to "
            "the loopback address. Failures are logged and retried at the next checkpoint."
        ),
    )
    audit_checkpoint_peer_timeout_seconds: float = Field(
        default=10.0, ge=1, le=120, description="How long one POST of a checkpoint to the peer centre may take."
    )

    # --- demo ---
    demo_agency_ori: str = Field(
        default="CA0199900", pattern=r"^[A-Z0-9]{9}$",
        description="ORI of the simulated agency the demo seeds.",
    )
    demo_live_cameras: int = Field(
        default=4, ge=0, le=50,
        description="Simulated RTSP cameras the demo starts and records (0: none). Each costs CPU to encode.",
    )
    demo_camera_count: int = Field(
        default=36, ge=0, le=1000, description="Camera records the demo seeds in the simulated city."
    )
    demo_call_interval_seconds: float = Field(
        default=30, ge=0, le=3600,
        description="`rtcc demo` only: seconds between simulated calls for service in the city (0: none).",
    )

    @field_validator("data_dir")
    @classmethod
    def _expand_data_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("password_hash_memory_kib")
    @classmethod
    def _argon2_memory_fits_lanes(cls, value: int, info) -> int:
        # Argon2 needs 8 KiB per lane; refuse at start rather than at the first sign-in.
        lanes = info.data.get("password_hash_parallelism", 1)
        if value < 8 * lanes:
            raise ValueError(f"must be at least 8 x RTCC_PASSWORD_HASH_PARALLELISM ({8 * lanes} KiB)")
        return value

    @field_validator("camera_network_allowlist")
    @classmethod
    def _networks_in_cidr(cls, value: list[str]) -> list[str]:
        import ipaddress

        try:
            return [str(ipaddress.ip_network(entry.strip(), strict=False)) for entry in value]
        except ValueError as error:
            raise ValueError(f"not a network in CIDR notation: {error}") from None

    @field_validator("audit_checkpoint_peer_url")
    @classmethod
    def _peer_over_https(cls, value: str) -> str:
        # Checkpoints are public, but a peer reached over plain HTTP could be impersonated on the way.
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        if value and not ((parts.scheme == "https" and parts.hostname) or loopback):
            raise ValueError("must be an https:// URL (http:// only to the loopback address)")
        return value

    @field_validator("cad_watch_dir", mode="before")
    @classmethod
    def _empty_means_off(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cad_time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def effective_cad_agency_ori(self) -> str:
        """The agency CAD files are imported for."""
        return self.cad_agency_ori or self.demo_agency_ori

    @cached_property
    def effective_database_url(self) -> str:
        """The database URL to connect to, defaulting to SQLite inside the data dir."""
        if self.database_url and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'rtcc.sqlite3').resolve()}"

    @property
    def keys_dir(self) -> Path:
        """Where signing and encryption keys live (created 0700): KEY_DIR, or DATA_DIR/keys until it is moved."""
        from rtcc.core.keys import effective_key_dir

        return effective_key_dir(self.key_dir, self.data_dir)

    @property
    def effective_audit_checkpoint_log(self) -> Path:
        """The checkpoint log file to append to and verify against."""
        return self.audit_checkpoint_log or (self.keys_dir / "audit-checkpoints.jsonl")

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

    def plate_frame_size(self, stream: str) -> tuple[int, int]:
        """Width and height plate reading scales a camera's "sub" or "main" stream to."""
        if stream == "main":
            return self.video_reads_main_stream_width, self.video_reads_main_stream_height
        return self.video_reads_sub_stream_width, self.video_reads_sub_stream_height

    def motion_gate_thresholds(self) -> dict[str, float]:
        """The plate reader's motion gate (alpr.video_reads.MotionGate keywords)."""
        return {"threshold": self.video_reads_motion_threshold, "read_at_least_every": self.video_reads_motion_read_every}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file or os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            if not Path(config_file).is_file():
                raise FileNotFoundError(f"config file not found: {config_file}")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, the --config file and explicit overrides."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def masked_settings(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain values, with secrets and URL passwords masked."""
    shown: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = _mask_url(value.get_secret_value()) if value.get_secret_value() else None
        elif isinstance(value, Path):
            value = str(value)
        shown[name] = value
    shown["effective_database_url"] = _mask_url(settings.effective_database_url)
    return shown


def _mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: mask it whole
        return "***"


def settings_reference() -> str:
    """Markdown table of every setting: variable, default, bounds, description."""
    lines = [
        "# Configuration",
        "",
        "Every setting is read from an `RTCC_*` environment variable, else from the TOML file given",
        "with `rtcc --config FILE` (keys are the lower-case names without the prefix), else its default.",
        "`rtcc config show` prints the effective values with secrets masked. This page is generated",
        "by `rtcc config docs`; a test fails when a setting is missing from it.",
        "",
        "| variable | default | bounds | description |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        bounds = []
        for constraint in field.metadata:
            for attribute, symbol in (("ge", ">="), ("le", "<="), ("min_length", "length >="), ("max_length", "length <="), ("pattern", "matches")):
                value = getattr(constraint, attribute, None)
                if value is not None:
                    bounds.append(f"{symbol} `{value}`" if attribute == "pattern" else f"{symbol} {value}")
        default = field.default_factory() if field.default_factory is not None else field.default
        shown = "(long text)" if isinstance(default, str) and len(default) > 40 else f"`{default}`"
        lines.append(f"| `RTCC_{name.upper()}` | {shown} | {', '.join(bounds) or '—'} | {field.description} |")
    return "\n".join(lines) + "\n"
