"""Audit review's periodic job: raise flags over the audit trail and settle the weekly reviews."""

from __future__ import annotations

from rtcc.core.jobs import Job, JobContext


def declare_jobs(context: JobContext) -> list[Job]:
    """Flagging on schedule (RTCC_REVIEW_FLAG_INTERVAL_MINUTES)."""
    from rtcc.governance.review import service

    runtime = context.runtime
    settings = runtime.settings

    def flag_and_settle() -> str:
        # The rules read in a read session: a week of audit trail is read without holding SQLite's write lock.
        with runtime.database.read_session() as db:
            found = service.find_flags(db, settings=settings)
        with runtime.database.session() as db:
            raised = service.store_flags(db, found)
            weekly = service.settle_weekly_reviews(db, settings=settings)
        return (f"raised {sum(raised.values())} flags; weekly reviews: {weekly['opened']} opened, "
                f"{weekly['overdue']} now overdue")

    return [Job(domain="governance", name="audit_review", interval_seconds=settings.review_flag_interval_minutes * 60,
                run=flag_and_settle, jitter=0.1,
                description="Flag audit records that call for a supervisor's review; open and mark weekly reviews.")]
