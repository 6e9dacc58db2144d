"""Audit review tables: flags raised over the audit trail, the records each links, reviews, weekly reviews."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime

FLAG_STATUSES = ("open", "cleared", "referred")
OUTCOMES = ("cleared", "referred")  # what a review decides
WEEKLY_STATUSES = ("due", "done", "overdue")


class AuditFlag(Base):
    """One rule fired on one person's activity: why, in words, and which audit records (AuditFlagRecord) made it."""

    __tablename__ = "audit_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(48), index=True)
    username: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # the actor flagged
    agency_ori: Mapped[str | None] = mapped_column(String(9), nullable=True, index=True)  # whose supervisors review it
    explanation: Mapped[str] = mapped_column(Text)
    record_count: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the first and last flagged record
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | cleared | referred


class AuditFlagRecord(Base):
    """An audit record a flag links; a record is flagged at most once per rule, so flagging twice adds nothing."""

    __tablename__ = "audit_flag_records"
    __table_args__ = (UniqueConstraint("rule", "audit_seq", name="uq_audit_flag_records_rule_seq"),)

    flag_id: Mapped[int] = mapped_column(ForeignKey("audit_flags.id", ondelete="CASCADE"), primary_key=True)
    # No foreign key: the audit trail is kept by its own retention, and a flag outlives nothing it does not need.
    audit_seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(48))


class AuditFlagReview(Base):
    """A supervisor's decision on a flag: cleared (explained, nothing wrong) or referred (for investigation)."""

    __tablename__ = "audit_flag_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("audit_flags.id", ondelete="CASCADE"), index=True)
    reviewer: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # cleared | referred
    notes: Mapped[str] = mapped_column(Text)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WeeklyReview(Base):
    """The review of one week's flags a supervisor owes: due until its due time, then overdue, or done."""

    __tablename__ = "audit_weekly_reviews"
    __table_args__ = (UniqueConstraint("supervisor", "week_start", name="uq_audit_weekly_reviews_supervisor_week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    supervisor: Mapped[str] = mapped_column(String(64), index=True)
    agency_ori: Mapped[str | None] = mapped_column(String(9), nullable=True, index=True)
    week_start: Mapped[date] = mapped_column(Date)  # the Monday, local time in review_time_zone
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="due")  # due | done | overdue
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    flags_open: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the agency's open flags when completed


class ReviewProgress(Base):
    """How far each rule has read the audit trail: the next run reads only records after `last_seq` (and, for a
    rule over a window, the unflagged ones within that window before them)."""

    __tablename__ = "audit_review_progress"

    rule: Mapped[str] = mapped_column(String(48), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
