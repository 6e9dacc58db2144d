"""Events of audit review: a flag raised (by the system), a flag reviewed and a weekly review done (by a supervisor)."""

from __future__ import annotations

from rtcc.core.events import Event


class ReviewEvent(Event):
    """Those who read the review queue hear of it; the agency is the flagged person's (or the supervisor's)."""

    permission = "audit_review.read"


class FlagRaised(ReviewEvent):
    """A rule fired over the audit trail (the system acts: no audit entry of its own)."""

    type = "audit_review.flag_raised"
    flag_id: int
    rule: str
    username: str | None
    record_count: int


class FlagReviewed(ReviewEvent):
    type = "audit_review.flag_reviewed"
    audit_action = "audit_review.review"
    flag_id: int
    rule: str
    outcome: str
    reviewer: str


class WeeklyReviewCompleted(ReviewEvent):
    type = "audit_review.weekly_completed"
    audit_action = "audit_review.weekly_review"
    weekly_review_id: int
    supervisor: str
    week_start: str
    late: bool
