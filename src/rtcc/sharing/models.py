"""Field shares: a snapshot, a clip or a live link sent to one field officer behind a single-use token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime

SHARE_KINDS = ("snapshot", "clip", "live")


class FieldShare(Base):
    """One thing sent to one officer: what, by whom, why, until when, and every use of its link."""

    __tablename__ = "field_shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # snapshot | clip | live
    # No foreign key: a share keeps its history (and its frozen copy) if the camera is later removed.
    camera_id: Mapped[int] = mapped_column(Integer)
    camera_name: Mapped[str] = mapped_column(String(200))
    # The sender's agency: its supervisors see and may revoke the share.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    sender_username: Mapped[str] = mapped_column(String(64), index=True)
    recipient_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient_username: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True)
    purpose: Mapped[str] = mapped_column(String(500))
    purpose_category: Mapped[str | None] = mapped_column(String(16), nullable=True)  # a code of the managed list
    case_number: Mapped[str] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    # snapshot: the instant of the still; clip: its start and end; live: none.
    at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The copy frozen at share time (DATA_DIR/shares/...): exactly what was shared, whatever retention does later.
    media_path: Mapped[str | None] = mapped_column(String(300), nullable=True)
    media_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    media_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    media_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    media_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # SHA-256 of the link's random token; the token itself is shown once, to the sender.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Single use: the first verified open binds the link to that browser (SHA-256 of its cookie).
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    device_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    last_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
