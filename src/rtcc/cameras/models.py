"""The camera registry table: where each camera is, what it sees, and how to reach its streams."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime
from rtcc.core.types import JSONDocument

CAMERA_KINDS = (
    "city_fixed",
    "city_ptz",
    "private_registered",  # location only: the owner shares no stream
    "private_integrated",  # live under the owner's rules
    "body_worn",
    "drone",
)
RECORD_MODES = ("continuous", "events", "off")


class Camera(Base):
    """A camera of any kind; its view is a cone from (latitude, longitude) along heading."""

    __tablename__ = "cameras"
    __table_args__ = (UniqueConstraint("agency_id", "external_id", name="uq_cameras_agency_external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The owner's own identifier (asset tag, import key): re-importing the same id updates the camera.
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    owner_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    groups: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    mounting_height_m: Mapped[float] = mapped_column(Float, default=4.0)
    heading_deg: Mapped[float] = mapped_column(Float, default=0.0)
    fov_deg: Mapped[float] = mapped_column(Float, default=60.0)
    range_m: Mapped[float] = mapped_column(Float, default=80.0)
    # Stream URLs are stored without credentials; the credentials are encrypted apart from them.
    main_stream_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    sub_stream_url: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    stream_credentials_encrypted: Mapped[str | None] = mapped_column(Text, nullable=True)
    rtsp_transport: Mapped[str] = mapped_column(String(3), default="tcp")  # tcp | udp
    record_mode: Mapped[str] = mapped_column(String(16), default="continuous")
    # Whether the server reads plates from this camera's video (RTCC_VIDEO_READS_ENABLED switches it off for all).
    reads_plates: Mapped[bool] = mapped_column(Boolean, default=False)
    retention_class: Mapped[str] = mapped_column(String(32), default="standard")
    # Polygons in normalised image coordinates [[x, y], ...] (0..1), masking private places.
    privacy_masks: Mapped[list] = mapped_column(JSONDocument, default=list)
    # None: the retention_days setting. A per-camera maximum age for recorded video.
    retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    status_detail: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
