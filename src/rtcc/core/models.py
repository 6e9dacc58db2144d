"""Tables of the core itself: the last run of each periodic job, readable by any process (`rtcc jobs`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime


class JobRun(Base):
    """One periodic job: when it last ran, how that went, and when it runs next (written by the scheduler)."""

    __tablename__ = "job_runs"

    domain: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    interval_seconds: Mapped[float] = mapped_column(Float)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # when the last run began
    last_outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # ok | failed
    last_message: Mapped[str | None] = mapped_column(Text, nullable=True)  # the job's summary, or the failure
    last_duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    run_count: Mapped[int] = mapped_column(Integer, default=0)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    # Which process schedules it (host:pid): with several processes, says whose numbers these are.
    scheduled_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
