"""Audit review settings (`RTCC_REVIEW_*`): how often flagging runs and each rule's thresholds."""

from __future__ import annotations

from datetime import time

from pydantic import Field, field_validator

from rtcc.core.config import CoreSettings, known_time_zone


class ReviewSettings(CoreSettings):
    """Audit review: the flags raised over the audit trail and the weekly supervisor review."""

    review_flag_interval_minutes: int = Field(
        default=15, ge=1, le=1440, description="How often the audit trail is checked for new flags (minutes).",
    )
    review_lookback_hours: int = Field(
        default=168, ge=24, le=2160,
        description="How far back each flagging run reads the audit trail (hours; at least a day so the plate and "
                    "denial windows are whole). A record flagged once by a rule is never flagged by it again.",
    )
    review_plate_search_count: int = Field(
        default=5, ge=2, le=1000,
        description="Flag one user searching the same plate at least this many times within "
                    "`RTCC_REVIEW_PLATE_SEARCH_WINDOW_HOURS`.",
    )
    review_plate_search_window_hours: int = Field(
        default=24, ge=1, le=720, description="The window of the repeated plate search rule (hours).",
    )
    review_denied_count: int = Field(
        default=5, ge=2, le=1000,
        description="Flag one user refused access at least this many times within `RTCC_REVIEW_DENIED_WINDOW_MINUTES`.",
    )
    review_denied_window_minutes: int = Field(
        default=60, ge=1, le=10080, description="The window of the repeated denied access rule (minutes).",
    )
    review_bulk_search_results: int = Field(
        default=50, ge=1, le=100000,
        description="A plate search returning at least this many reads counts as bulk (as does any wildcard search) "
                    "for the after-hours rule.",
    )
    review_after_hours_start: time = Field(
        default=time(22, 0), description="Start of after hours, local time in `RTCC_REVIEW_TIME_ZONE` (HH:MM).",
    )
    review_after_hours_end: time = Field(
        default=time(6, 0), description="End of after hours, local time (HH:MM); before the start: the window spans midnight.",
    )
    review_time_zone: str = Field(
        default="UTC", min_length=1, max_length=64,
        description="IANA time zone of the after-hours window and of the weeks supervisors review (e.g. America/Chicago).",
    )
    review_weekly_due_days: int = Field(
        default=2, ge=0, le=14,
        description="Days after a week ends (Monday 00:00 local) by which each supervisor's review of it is due.",
    )

    @field_validator("review_time_zone")
    @classmethod
    def _known_review_time_zone(cls, value: str) -> str:
        return known_time_zone(value)
