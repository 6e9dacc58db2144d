"""Tables of plate reads, hotlists and their entries, and the alerts a match raises."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime


class PlateRead(Base):
    """One sighting of a plate by a camera or an ALPR device."""

    __tablename__ = "plate_reads"
    __table_args__ = (
        # Idempotency: a device resending a read stores it once. read_at is part of the key because PostgreSQL
        # range-partitions this table by read_at (migration 0010) and a unique key there must hold the partition
        # key; a resent read carries the same time, so it still dedupes (docs/plates.md, "Storage").
        UniqueConstraint("source", "source_read_id", "read_at", name="uq_plate_reads_source_read"),
        # varchar_pattern_ops on PostgreSQL: the same index serves plate = 'X' and plate LIKE 'ABC%'.
        # (SQLite serves LIKE 'ABC%' from it with case_sensitive_like on.)
        Index("ix_plate_reads_plate_time", "plate", "read_at", postgresql_ops={"plate": "varchar_pattern_ops"}),
        Index("ix_plate_reads_camera_time", "camera_id", "read_at"),
        # BRIN on PostgreSQL: reads arrive in time order, so a block-range summary finds a time range at a
        # fraction of a b-tree's upkeep per read (a plain b-tree on SQLite).
        Index("ix_plate_reads_read_at", "read_at", postgresql_using="brin"),
        # Small (most reads match nothing): lets retention prove a whole partition holds no matched read.
        Index("ix_plate_reads_matched", "read_at", postgresql_where=text("matched"), sqlite_where=text("matched")),
    )

    # The primary key is id; on PostgreSQL the table's key is (id, read_at), as partitioning requires, and ids
    # stay unique because they all come from one sequence (see migration 0010).
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    plate: Mapped[str] = mapped_column(String(16))  # normalised: upper case, letters and digits only
    plate_raw: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    region: Mapped[str | None] = mapped_column(String(16), nullable=True)  # e.g. us-ca
    camera_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    device_id: Mapped[str | None] = mapped_column(String(100), nullable=True)  # an external reader's own id
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    direction: Mapped[str | None] = mapped_column(String(16), nullable=True)
    crop_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    source: Mapped[str] = mapped_column(String(32))  # reader | rest | mqtt | openalpr | frigate
    source_read_id: Mapped[str] = mapped_column(String(100))
    matched: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SeenPlate(Base):
    """Every plate that has a stored read: the short list a wildcard search (7AB?12*, *BC12*) is matched
    against before reads are fetched by plate. Ingest adds to it; retention removes a plate with its last read."""

    __tablename__ = "seen_plates"
    __table_args__ = {"sqlite_with_rowid": False}

    # Byte-order collation on PostgreSQL, so the key also serves LIKE 'ABC%' (SQLite: case_sensitive_like).
    plate: Mapped[str] = mapped_column(String(16).with_variant(String(16, collation="C"), "postgresql"), primary_key=True)


class Hotlist(Base):
    """A list of wanted plates from one source (NCIC extract, local BOLO list, Amber alerts)."""

    __tablename__ = "hotlists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    source: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer)  # 1 = highest
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HotlistEntry(Base):
    """One wanted plate: why, what vehicle, and until when."""

    __tablename__ = "hotlist_entries"
    __table_args__ = (UniqueConstraint("hotlist_id", "external_id", name="uq_hotlist_entries_list_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hotlist_id: Mapped[int] = mapped_column(ForeignKey("hotlists.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))  # the source's record id (or the plate+state)
    plate: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str | None] = mapped_column(String(2), nullable=True)
    reason: Mapped[str] = mapped_column(String(200))
    make: Mapped[str | None] = mapped_column(String(50), nullable=True)
    model: Mapped[str | None] = mapped_column(String(50), nullable=True)
    colour: Mapped[str | None] = mapped_column(String(30), nullable=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Raised by every change to the entry, so each process's hotlist cache sees an edit in place (a recovered
    # car's extract line with its expiry moved to today) and stops matching it (rtcc.alpr.hotlists.HotlistCache).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class PlateAlert(Base):
    """A read that matched a hotlist entry; actionable only once a person verified it."""

    __tablename__ = "plate_alerts"
    __table_args__ = (Index("ix_plate_alerts_plate_camera", "plate", "camera_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    read_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("plate_reads.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("hotlist_entries.id"), index=True)
    hotlist_id: Mapped[int] = mapped_column(Integer, index=True)
    camera_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    plate: Mapped[str] = mapped_column(String(16))
    match_method: Mapped[str] = mapped_column(String(16))  # exact | fuzzy
    # The hotlist's priority when the alert was raised (1 = highest), copied so that everyone who sees the alert
    # sees the same urgency, including people who may not read the hotlist itself (migration 0013).
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True)  # new | actionable | closed
    repeats: Mapped[int] = mapped_column(Integer, default=0)  # further reads folded into this alert
    crop_matches_plate: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    vehicle_matches: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    entry_still_active: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    verified_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(32), nullable=True)
    disposition_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    disposed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
