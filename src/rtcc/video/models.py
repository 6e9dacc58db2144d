"""Tables of recorded segments, what protects them (legal holds, exports) and what purged them."""

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


class LegalHold(Base):
    """Footage that must not be deleted while the hold stands (created by governance)."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: every camera
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    case_number: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


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


class DeletionReceipt(Base):
    """Proof of what a retention purge removed, for the transparency figures."""

    __tablename__ = "deletion_receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(Integer, index=True)
    range_start: Mapped[datetime] = mapped_column(UTCDateTime())
    range_end: Mapped[datetime] = mapped_column(UTCDateTime())
    segment_count: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger)
    # max_age | event_only | disk_quota for video; unmatched_reads for plate reads (count in segment_count)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


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
