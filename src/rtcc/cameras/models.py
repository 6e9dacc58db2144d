"""The camera registry table: where each camera is and what it sees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime
from rtcc.core.types import JSONDocument

CAMERA_KINDS = (
    "city_fixed",
    "city_ptz",
    "private_registered",
    "private_integrated",
    "body_worn",
    "drone",
)


class Camera(Base):
    """A camera of any kind; its view is a cone from (latitude, longitude) along heading."""

    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    groups: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    mounting_height_m: Mapped[float] = mapped_column(Float, default=4.0)
    heading_deg: Mapped[float] = mapped_column(Float, default=0.0)
    fov_deg: Mapped[float] = mapped_column(Float, default=60.0)
    range_m: Mapped[float] = mapped_column(Float, default=80.0)
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
