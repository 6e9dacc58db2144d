"""Retention policies (every change a new version), legal holds, deletion receipts and the case register."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime
from rtcc.core.types import JSONDocument


class RetentionPolicy(Base):
    """One version of a data class's policy; the highest version of a class is in force. Rows are never changed."""

    __tablename__ = "retention_policies"
    __table_args__ = (UniqueConstraint("data_class", "version", name="uq_retention_policies_class_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data_class: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    keep_for_seconds: Mapped[int] = mapped_column(BigInteger)
    keep_for: Mapped[str] = mapped_column(String(16))  # as written: "3min", "21d", "18mo"
    clock: Mapped[str] = mapped_column(String(32))  # what ends the clock: capture | incident_closed | ...
    action: Mapped[str] = mapped_column(String(16))  # delete | reduce
    source: Mapped[str] = mapped_column(String(100))  # the preset it came from, or "admin"
    citation: Mapped[str] = mapped_column(String(500), default="")
    fields: Mapped[dict] = mapped_column(JSONDocument, default=dict)  # e.g. California SB 34 policy fields
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LegalHold(Base):
    """What must not be purged, in any class, until a supervisor releases it.

    kind says what it covers: case (a case number), incident, camera (a camera, or every camera when camera_id
    is None, and a time window), plate, community_upload.
    """

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="camera", server_default="camera")
    camera_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    case_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    plate: Mapped[str | None] = mapped_column(String(16), nullable=True)
    upload_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(500))
    # The placing supervisor's agency: who may see and release the hold (rtcc.auth.scope); every purge obeys it.
    agency_ori: Mapped[str | None] = mapped_column(String(16), nullable=True)
    review_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    release_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


class DeletionReceipt(Base):
    """Proof of what one purge of one data class removed, and which held items it skipped.

    Receipts from before governance (one per camera and reason) keep camera_id, reason and segment_count and
    have no data_class. A receipt left `running` by a purge that failed half-way is resumed by the next run.
    """

    __tablename__ = "deletion_receipts"
    __table_args__ = (Index("ix_deletion_receipts_class_created", "data_class", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    data_class: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="done", server_default="done")  # running | done
    camera_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    range_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # the window purged
    range_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    segment_count: Mapped[int] = mapped_column(Integer)  # items purged (segments, reads, alerts, copies...)
    bytes: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))  # the action (delete | reduce); old receipts: max_age etc.
    policy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cutoff: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    skipped_held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    skipped: Mapped[list] = mapped_column(JSONDocument, default=list)  # [{"item": ..., "holds": [ids]}]
    breakdown: Mapped[list] = mapped_column(JSONDocument, default=list)  # per camera and reason
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Case(Base):
    """A case number's state, for the retention clock "case_closed": what carries the number starts its clock
    when the case was closed. Registered when a supervisor first acts on it (opened_at: the first record seen
    carrying the number, else that moment); a reopen clears the close, and the audit trail keeps each close and
    reopen with its reason. Case numbers are one namespace, as legal holds on a case are."""

    __tablename__ = "retention_cases"
    __table_args__ = (UniqueConstraint("case_number", name="uq_retention_cases_case_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64))
    # The registering supervisor's agency: who may see, close and reopen it (rtcc.auth.scope).
    agency_ori: Mapped[str | None] = mapped_column(String(16), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
