"""The append-only, hash-chained audit log and its signed head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime


class AuditRecord(Base):
    """One thing a person or integration did; `record_hash` covers every other column."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    username: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    agency_ori: Mapped[str | None] = mapped_column(String(9), nullable=True)
    source_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # success | failure | denied
    purpose: Mapped[str | None] = mapped_column(String(500), nullable=True)
    case_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Canonical JSON text (sorted keys) so the hash is the same on every engine.
    query_terms: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[str | None] = mapped_column(Text, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last record's sequence and hash, signed, so truncating the tail is detected too."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    record_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
