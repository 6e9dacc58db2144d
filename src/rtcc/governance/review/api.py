"""The audit-review queue over HTTP: flags, one flag's records, reviews, weekly reviews (supervisors; auditors read)."""

from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Query, Request

from rtcc.audit import service as audit
from rtcc.audit.schemas import AuditRecordOut
from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.http import RecordId
from rtcc.core.openapi import error_responses
from rtcc.governance.review import service
from rtcc.governance.review.flags import RULES_BY_NAME
from rtcc.governance.review.models import AuditFlag
from rtcc.governance.review.schemas import (
    FlagDetailOut, FlagOut, ReviewIn, ReviewOut, ReviewStatusOut, WeeklyReviewIn, WeeklyReviewOut,
)

router = APIRouter(prefix="/audit-review", tags=["audit review"])
RuleName = Literal[tuple(RULES_BY_NAME)]  # type: ignore[valid-type]


def flag_out(flag: AuditFlag) -> FlagOut:
    fields = {name: getattr(flag, name) for name in FlagOut.model_fields if name != "rule_title"}
    return FlagOut(**fields, rule_title=service.rule_title(flag.rule))


@router.get("/flags", response_model=list[FlagOut], openapi_extra=needs("audit_review.read"))
def list_flags(request: Request, status: Literal["open", "cleared", "referred", "all"] = "open",
               rule: RuleName | None = None, limit: int = Query(200, ge=1, le=1000),
               actor: Actor = Depends(authorize)):
    """The review queue: flags of the caller's agency (an auditor: every agency's), newest first."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        flags = service.list_flags(db, actor=actor, status=None if status == "all" else status, rule=rule, limit=limit)
        return [flag_out(flag) for flag in flags]


@router.get("/flags/{flag_id}", response_model=FlagDetailOut, responses=error_responses(404),
            openapi_extra=needs("audit_review.read"))
def get_flag(flag_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """One flag with the audit records it links and its reviews (the look is audited)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        detail = service.flag_detail(db, runtime=runtime, actor=actor, flag_id=flag_id)
        return FlagDetailOut(**flag_out(detail.flag).model_dump(),
                             records=[AuditRecordOut(**audit.as_row(record)) for record in detail.records],
                             reviews=[ReviewOut.model_validate(review) for review in detail.reviews])


@router.post("/flags/{flag_id}/reviews", response_model=ReviewOut, status_code=201, responses=error_responses(404),
             openapi_extra=needs("audit_review.record"))
def review_flag(flag_id: RecordId, body: ReviewIn, request: Request, actor: Actor = Depends(authorize)):
    """Record a review of a flag of one's agency: cleared or referred, with notes (audited)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        review = service.review_flag(db, runtime=runtime, actor=actor, flag_id=flag_id, outcome=body.outcome,
                                     notes=body.notes)
        return ReviewOut.model_validate(review)


@router.get("/weekly", response_model=list[WeeklyReviewOut], openapi_extra=needs("audit_review.read"))
def list_weekly_reviews(request: Request, weeks: int = Query(8, ge=1, le=104), actor: Actor = Depends(authorize)):
    """Each supervisor's weekly review (of the caller's agency; an auditor: every agency's): due, done or overdue."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [WeeklyReviewOut.model_validate(row)
                for row in service.list_weekly_reviews(db, runtime=runtime, actor=actor, weeks=weeks)]


@router.post("/weekly", response_model=WeeklyReviewOut, responses=error_responses(404),
             openapi_extra=needs("audit_review.record"))
def complete_weekly_review(body: WeeklyReviewIn, request: Request, actor: Actor = Depends(authorize)):
    """Mark one's weekly review done (default: the oldest not done), with notes (audited)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        row = service.complete_weekly_review(db, runtime=runtime, actor=actor, notes=body.notes,
                                             week_start=body.week_start)
        return WeeklyReviewOut.model_validate(row)


@router.get("/status", response_model=ReviewStatusOut, openapi_extra=needs("audit_review.read"))
def review_status(request: Request, since: datetime | None = Query(None, description="Default: 30 days ago."),
                  actor: Actor = Depends(authorize)):
    """Counts of flags raised, reviewed and referred, and weekly reviews done of those due, since a time."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        found = service.review_status(db, since or clock.utcnow() - timedelta(days=30))
        return ReviewStatusOut(**found.__dict__)
