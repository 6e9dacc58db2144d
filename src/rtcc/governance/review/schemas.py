"""Request and response bodies of the audit-review API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rtcc.audit.schemas import AuditRecordOut


class FlagOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule: str
    rule_title: str
    username: str | None = Field(description="Whose activity the flag is about.")
    agency_ori: str | None
    explanation: str = Field(description="Why the rule fired, in words.")
    record_count: int
    first_at: datetime
    last_at: datetime
    created_at: datetime
    status: Literal["open", "cleared", "referred"]


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    flag_id: int
    reviewer: str
    outcome: Literal["cleared", "referred"]
    notes: str
    reviewed_at: datetime


class FlagDetailOut(FlagOut):
    records: list[AuditRecordOut] = Field(description="The audit records the flag links, oldest first.")
    reviews: list[ReviewOut]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["cleared", "referred"] = Field(description="cleared: explained, nothing wrong; referred: for "
                                                                "investigation.")
    notes: str = Field(min_length=5, max_length=4000, description="What the review found.")


class WeeklyReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    supervisor: str
    agency_ori: str | None
    week_start: date
    due_at: datetime
    status: Literal["due", "done", "overdue"]
    completed_at: datetime | None
    notes: str | None
    flags_open: int | None = Field(description="The agency's open flags when the review was done.")


class WeeklyReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: str = Field(min_length=5, max_length=4000, description="What the weekly review covered.")
    week_start: date | None = Field(None, description="The Monday of the week reviewed; default: your oldest review "
                                                      "not done.")


class ReviewStatusOut(BaseModel):
    flags_raised: int
    flags_reviewed: int
    flags_referred: int
    flags_open: int
    flags_by_rule: dict[str, int]
    weekly_reviews_due: int
    weekly_reviews_done: int
    weekly_reviews_overdue: int
