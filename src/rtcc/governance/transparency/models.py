"""What the admin enters for the annual surveillance report: the one part of it not counted from the record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime
from rtcc.core.types import JSONDocument


class TransparencyYear(Base):
    """One year's costs and complaints, as the admin entered them (everything here is published)."""

    __tablename__ = "transparency_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    complaints_received: Mapped[int] = mapped_column(Integer, default=0)
    complaints_sustained: Mapped[int] = mapped_column(Integer, default=0)
    # [{"item": "Camera maintenance contract", "cents": 1250000}, ...]: whole cents, so sums are exact.
    cost_lines: Mapped[list] = mapped_column(JSONDocument, default=list)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
