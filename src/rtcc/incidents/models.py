"""Calls for service from CAD, the incidents some of them open, their timelines and docked cameras."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime
from rtcc.core.types import JSONDocument

INCIDENT_STATUSES = ("open", "closed")


class CallForService(Base):
    """A CAD call as last received; the same call_id sent again updates this row."""

    __tablename__ = "cad_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(100), unique=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True, index=True)
    type: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    narrative: Mapped[str | None] = mapped_column(Text, nullable=True)
    units: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    # Whatever else the CAD sent, kept as it came so nothing is lost before we model it.
    extra: Mapped[dict] = mapped_column(JSONDocument, default=dict)
    status: Mapped[str] = mapped_column(String(32))  # the CAD's own status text; "closed" closes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Incident(Base):
    """Something happening now that the centre works: where, what, and which cameras watch it."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_opened", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True, index=True)
    call_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    # Cameras near the scene that cannot be docked (no stream, or the owner does not share live):
    # [{camera_id, name, kind, owner_name, distance_m, reason}], for the footage-request action.
    footage_request_candidates: Mapped[list] = mapped_column(JSONDocument, default=list)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IncidentTimelineEntry(Base):
    """One thing that happened on an incident (opened, camera docked, note added, closed...)."""

    __tablename__ = "incident_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(String(500))
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data: Mapped[dict] = mapped_column(JSONDocument, default=dict)


class IncidentCamera(Base):
    """A camera docked onto an incident, its rank and why it was chosen."""

    __tablename__ = "incident_cameras"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    # No foreign key: removing a camera from the registry must not rewrite an incident's history.
    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    distance_m: Mapped[float] = mapped_column(Float)
    sees_location: Mapped[bool] = mapped_column(default=False)
