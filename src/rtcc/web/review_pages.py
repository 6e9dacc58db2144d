"""The console's audit-review page: the supervisor's queue of flags, a review form on each, the weekly reviews."""

from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from rtcc.audit import service as audit
from rtcc.auth.guard import get_runtime
from rtcc.core.errors import RTCCError
from rtcc.core.http import RecordId
from rtcc.governance.review import service as review
from rtcc.web.pages import check_form_csrf, render, signed_in

router = APIRouter(include_in_schema=False)
PAGE = "/console/audit-review"


@router.get(PAGE)
def audit_review_page(request: Request, status: str = "open", notice: str | None = None, error: str | None = None):
    """Open flags (or those of another status) of the caller's agency, each explained, and the weekly reviews."""
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "audit_review.read")
    shown = status if status in ("open", "cleared", "referred", "all") else "open"
    with runtime.database.session() as db:
        flags = review.list_flags(db, actor=actor, status=None if shown == "all" else shown)
        rows = [(flag, review.rule_title(flag.rule)) for flag in flags]
        weekly = review.list_weekly_reviews(db, runtime=runtime, actor=actor, weeks=4)
    return render(request, "audit_review.html", actor=actor, csrf_token=user_session.csrf_token, rows=rows,
                  weekly=weekly, status=shown, notice=notice, error=error)


@router.get(PAGE + "/flags/{flag_id}")
def flag_page(request: Request, flag_id: RecordId):
    """One flag: why it fired, the audit records it links (the look is audited) and its reviews."""
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "audit_review.read")
    try:
        with runtime.database.session() as db:
            detail = review.flag_detail(db, runtime=runtime, actor=actor, flag_id=flag_id)
            records = [audit.as_row(record) for record in detail.records]
            title = review.rule_title(detail.flag.rule)
    except RTCCError as failure:
        return RedirectResponse(PAGE + "?error=" + quote(failure.message), status_code=303)
    return render(request, "audit_review_flag.html", actor=actor, csrf_token=user_session.csrf_token,
                  flag=detail.flag, title=title, records=records, reviews=detail.reviews)


@router.post(PAGE + "/flags/{flag_id}/review")
def review_flag_submit(request: Request, flag_id: RecordId, outcome: str = Form(""), notes: str = Form(""),
                       csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "audit_review.record")
    check_form_csrf(user_session, csrf_token)
    try:
        with runtime.database.session() as db:
            review.review_flag(db, runtime=runtime, actor=actor, flag_id=flag_id, outcome=outcome, notes=notes)
    except RTCCError as failure:
        return RedirectResponse(PAGE + "?error=" + quote(failure.message), status_code=303)
    return RedirectResponse(PAGE + "?notice=" + quote(f"Flag {flag_id} {outcome}."), status_code=303)


@router.post(PAGE + "/weekly")
def weekly_review_submit(request: Request, notes: str = Form(""), csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "audit_review.record")
    check_form_csrf(user_session, csrf_token)
    try:
        with runtime.database.session() as db:
            row = review.complete_weekly_review(db, runtime=runtime, actor=actor, notes=notes)
            week = row.week_start.isoformat()
    except RTCCError as failure:
        return RedirectResponse(PAGE + "?error=" + quote(failure.message), status_code=303)
    return RedirectResponse(PAGE + "?notice=" + quote(f"Weekly review of the week of {week} done."), status_code=303)
