"""Tables of recorded segments, evidence exports (which protect their footage) and marks.

Legal holds and deletion receipts belong to retention: rtcc.governance.retention.models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime
from rtcc.core.types import JSONDocument


class RecordingSegment(Base):
    """One closed stream-copy segment of a camera's recording, indexed as it closes."""

    __tablename__ = "recording_segments"
    __table_args__ = (Index("ix_recording_segments_camera_start", "camera_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key: recordings outlive a camera's registry entry and follow their own retention.
    camera_id: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_s: Mapped[float] = mapped_column(Float)
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))  # relative to DATA_DIR/media
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EvidenceExport(Base):
    """A clip exported for a case; its source segments are kept as long as the export exists."""

    __tablename__ = "evidence_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(Integer, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    case_number: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    path: Mapped[str] = mapped_column(String(500))  # relative to DATA_DIR/exports
    fingerprint: Mapped[str] = mapped_column(String(64))  # SHA-256 of the bag's tag manifest
    source_segments: Mapped[list] = mapped_column(JSONDocument, default=list)


class RecordingMark(Base):
    """Something happened on a camera at a time: event-only cameras keep the video around marks."""

    __tablename__ = "recording_marks"
    __table_args__ = (Index("ix_recording_marks_camera_at", "camera_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(64))  # who or what marked it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
