"""The console's retention page: policies in force, legal holds (place, release, overdue), cases (close, reopen)
and deletion receipts."""

from datetime import datetime, timezone
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from rtcc.auth.guard import get_runtime
from rtcc.core.errors import InvalidInput, RTCCError
from rtcc.core.http import RecordId
from rtcc.governance.retention import cases as case_register
from rtcc.governance.retention import presets
from rtcc.governance.retention import service as retention
from rtcc.governance.retention.data_classes import CLASSES
from rtcc.web.pages import check_form_csrf, render, signed_in

router = APIRouter(include_in_schema=False)
PAGE = "/console/retention"


def _utc(value: str, what: str) -> datetime | None:
    """A datetime-local field, read as UTC (the page says so)."""
    if not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{what}: {value!r} is not a date and time.", code="bad_time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _back(notice: str | None = None, error: str | None = None) -> RedirectResponse:
    query = f"?notice={quote(notice)}" if notice else f"?error={quote(error or '')}"
    return RedirectResponse(PAGE + query, status_code=303)


@router.get(PAGE)
def retention_page(request: Request, notice: str | None = None, error: str | None = None):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "retention.read")
    with runtime.database.session() as db:
        policies = retention.policies_in_force(db, runtime=runtime)
        holds = [(hold, retention.describe_target(hold), retention.is_overdue(hold)) for hold in retention.list_holds(db, runtime=runtime, actor=actor)]
        receipts = retention.list_receipts(db, limit=50)
        cases = case_register.list_cases(db, runtime=runtime, actor=actor)
    return render(request, "retention.html", actor=actor, csrf_token=user_session.csrf_token, policies=policies,
                  labels={name: c.label for name, c in CLASSES.items()}, holds=holds, receipts=receipts, cases=cases,
                  presets=[(name, presets.describe(name)) for name in presets.available()], notice=notice, error=error)


@router.post(PAGE + "/holds")
def place_hold_submit(request: Request, kind: str = Form(""), reason: str = Form(""), case_number: str = Form(""),
                      incident_id: str = Form(""), camera_id: str = Form(""), starts_at: str = Form(""),
                      ends_at: str = Form(""), plate: str = Form(""), upload_id: str = Form(""),
                      review_at: str = Form(""), csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "holds.manage")
    check_form_csrf(user_session, csrf_token)
    try:
        numbers = {}
        for name, text in (("incident_id", incident_id), ("camera_id", camera_id)):
            if text.strip() and not text.strip().isdigit():
                raise InvalidInput(f"{name}: {text!r} is not a number.", code="bad_number")
            numbers[name] = int(text) if text.strip() else None
        with runtime.database.session() as db:
            hold = retention.place_hold(
                db, runtime=runtime, actor=actor, kind=kind, reason=reason, review_at=_utc(review_at, "review date"),
                case_number=case_number.strip() or None, plate=plate.strip() or None, upload_id=upload_id.strip() or None,
                starts_at=_utc(starts_at, "from"), ends_at=_utc(ends_at, "to"), **numbers)
            placed = f"Hold {hold.id} placed on {retention.describe_target(hold)}."
    except RTCCError as failure:
        return _back(error=failure.message)
    return _back(notice=placed)


@router.post(PAGE + "/holds/{hold_id}/release")
def release_hold_submit(request: Request, hold_id: RecordId, reason: str = Form(""), csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "holds.manage")
    check_form_csrf(user_session, csrf_token)
    try:
        with runtime.database.session() as db:
            retention.release_hold(db, runtime=runtime, actor=actor, hold_id=hold_id, reason=reason)
    except RTCCError as failure:
        return _back(error=failure.message)
    return _back(notice=f"Hold {hold_id} released.")


@router.post(PAGE + "/cases")
def case_action_submit(request: Request, case_number: str = Form(""), action: str = Form(""), reason: str = Form(""),
                       csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "cases.manage")
    check_form_csrf(user_session, csrf_token)
    try:
        with runtime.database.session() as db:
            case = case_register.act_on_case(db, runtime=runtime, actor=actor, case_number=case_number, action=action,
                                             reason=reason)
            done = f"Case {case.case_number} {'closed' if case.closed_at else 'reopened'}."
    except RTCCError as failure:
        return _back(error=failure.message)
    return _back(notice=done)


@router.post(PAGE + "/policies")
def set_policy_submit(request: Request, data_class: str = Form(""), keep_for: str = Form(""), action: str = Form(""),
                      note: str = Form(""), csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "retention.manage")
    check_form_csrf(user_session, csrf_token)
    try:
        if data_class not in CLASSES:
            raise InvalidInput(f"Unknown data class {data_class!r}.", code="unknown_data_class")
        with runtime.database.session() as db:
            row = retention.set_policy(db, runtime=runtime, actor=actor, data_class_name=data_class, keep_for=keep_for,
                                       action=action or None, note=note)
            done = f"{row.data_class}: version {row.version}, {row.action} after {row.keep_for}."
    except RTCCError as failure:
        return _back(error=failure.message)
    return _back(notice=done)


@router.post(PAGE + "/presets")
def load_preset_submit(request: Request, preset: str = Form(""), values: str = Form(""), csrf_token: str = Form("")):
    """Load one preset; values (CLASS=DURATION, space-separated) fill what it leaves to the agency."""
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "retention.manage")
    check_form_csrf(user_session, csrf_token)
    try:
        agency_values = {}
        for item in values.split():
            key, _, duration = item.partition("=")
            if not duration:
                raise InvalidInput(f"{item!r}: give CLASS=DURATION, e.g. plate_reads=1y.", code="bad_value")
            agency_values[key] = duration
        with runtime.database.session() as db:
            rows = retention.load_presets(db, runtime=runtime, actor=actor, names=[preset], agency_values=agency_values)
            done = f"Preset {preset} loaded: " + ", ".join(f"{r.data_class} {r.keep_for}" for r in rows) + "."
    except RTCCError as failure:
        return _back(error=failure.message)
    return _back(notice=done)
