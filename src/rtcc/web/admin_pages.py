"""Console pages for administrators (accounts) and auditors (the audit trail)."""


from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from rtcc.alpr import alerts as plate_alerts
from rtcc.alpr import search as plate_search
from rtcc.alpr import service as plates
from rtcc.audit import service as audit
from rtcc.auth import service as accounts
from rtcc.auth.guard import get_runtime
from rtcc.auth.permissions import ROLES
from rtcc.core.errors import RTCCError
from rtcc.core.http import RecordId
from rtcc.policy.engine import PolicyRefused
from rtcc.policy.purposes import all_purposes
from rtcc.web.pages import check_form_csrf, render, signed_in

router = APIRouter(include_in_schema=False)


@router.get("/console/users")
def users_page(request: Request, notice: str | None = None, error: str | None = None):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "users.read")
    with runtime.database.session() as db:
        users = accounts.list_users_audited(db, runtime=runtime, actor=actor, via="console")
        agencies = accounts.list_agencies(db)
        rows = [(user, accounts.account_status(user)) for user in users]
    return render(request, "users.html", actor=actor, csrf_token=user_session.csrf_token, rows=rows,
                  roles=ROLES, agencies=agencies, notice=notice, error=error, created=None)


@router.post("/console/users")
def create_user_submit(
    request: Request, username: str = Form(""), role: str = Form(""), agency_ori: str = Form(""),
    display_name: str = Form(""), expires_at: str = Form(""), csrf_token: str = Form(""),
):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "users.manage")
    check_form_csrf(user_session, csrf_token)
    try:
        expiry = datetime.fromisoformat(expires_at) if expires_at else None
        if expiry is not None and expiry.tzinfo is None:
            raise ValueError("give a time zone")
    except ValueError as error:
        return RedirectResponse("/console/users?error=" + quote(f"Expiry: {error}"), status_code=303)
    try:
        with runtime.database.session() as db:
            new = accounts.create_user(db, runtime=runtime, actor=actor, username=username, role=role,
                                       agency_ori=agency_ori, display_name=display_name, expires_at=expiry)
            agencies = accounts.list_agencies(db)
            # The page shows the accounts again: the same scoped, audited look as the list page.
            users = accounts.list_users_audited(db, runtime=runtime, actor=actor, via="console")
            rows = [(user, accounts.account_status(user)) for user in users]
    except RTCCError as error:
        return RedirectResponse("/console/users?error=" + quote(error.message), status_code=303)
    # Rendered, not redirected: the one-time password and TOTP secret must never sit in a URL.
    return render(request, "users.html", actor=actor, csrf_token=user_session.csrf_token, rows=rows, roles=ROLES,
                  agencies=agencies, notice=None, error=None, created=new)


@router.post("/console/users/{username}/{action}")
def user_action_submit(request: Request, username: str, action: str, csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "users.manage")
    check_form_csrf(user_session, csrf_token)
    operations = {"unlock": accounts.unlock_user, "disable": accounts.disable_user, "enable": accounts.enable_user}
    if action not in operations:
        return RedirectResponse("/console/users?error=" + quote("Unknown action."), status_code=303)
    try:
        with runtime.database.session() as db:
            operations[action](db, runtime=runtime, actor=actor, username=username)
    except RTCCError as error:
        return RedirectResponse("/console/users?error=" + quote(error.message), status_code=303)
    return RedirectResponse("/console/users?notice=" + quote(f"{username}: {action} done."), status_code=303)


@router.get("/console/audit")
def audit_page(request: Request, username: str = "", action: str = "", outcome: str = "", verify: str = ""):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "audit.read")
    query = audit.AuditQuery(username=username or None, action=action or None,
                             outcome=outcome if outcome in audit.OUTCOMES else None)
    verification = None
    if verify:
        with runtime.database.read_session() as db:
            verification = audit.verify_chain(db, keys=runtime.keys)
    with runtime.database.session() as db:
        if verification is not None:
            audit.record_verification(db, keys=runtime.keys, actor=actor, result=verification, via="console")
        audit.record(db, keys=runtime.keys, actor=actor, action="audit.search", query_terms=query.terms() or None,
                     details={"via": "console"})
        records = [audit.as_row(entry) for entry in audit.search(db, query=query, limit=200)]
    return render(request, "audit.html", actor=actor, csrf_token=user_session.csrf_token, records=records,
                  filters={"username": username, "action": action, "outcome": outcome},
                  verification=verification, export_query=str(request.url.query))


@router.get("/console/alerts")
def alerts_page(request: Request, notice: str | None = None, error: str | None = None):
    """The plate alert queue: new alerts to verify, actionable ones to dispose of."""
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "alerts.view")
    with runtime.database.session() as db:
        queue = plates.list_alerts_audited(db, runtime=runtime, actor=actor, statuses=plates.OPEN_ALERT_STATUSES,
                                           limit=100, via="console")
        rows = [(detail.alert, detail.entry, detail.read) for detail in queue]
    return render(request, "alerts.html", actor=actor, csrf_token=user_session.csrf_token, rows=rows,
                  dispositions=plate_alerts.DISPOSITIONS, notice=notice, error=error)


@router.post("/console/alerts/{alert_id}/verify")
def verify_alert_submit(request: Request, alert_id: RecordId, crop_matches_plate: str | None = Form(None),
                        vehicle_matches: str | None = Form(None), entry_still_active: str | None = Form(None),
                        csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "alerts.verify")
    check_form_csrf(user_session, csrf_token)
    try:
        with runtime.database.session() as db:
            alert = plate_alerts.verify(db, runtime=runtime, actor=actor, alert_id=alert_id,
                                        crop_matches_plate=crop_matches_plate == "yes", vehicle_matches=vehicle_matches == "yes",
                                        entry_still_active=entry_still_active == "yes")
            outcome = "actionable: send units" if alert.status == "actionable" else f"closed as {alert.disposition}"
    except RTCCError as failure:
        return RedirectResponse("/console/alerts?error=" + quote(failure.message), status_code=303)
    return RedirectResponse("/console/alerts?notice=" + quote(f"Alert {alert_id} {outcome}."), status_code=303)


@router.post("/console/alerts/{alert_id}/disposition")
def dispose_alert_submit(request: Request, alert_id: RecordId, disposition: str = Form(""), note: str = Form(""),
                         csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "alerts.verify")
    check_form_csrf(user_session, csrf_token)
    try:
        with runtime.database.session() as db:
            plate_alerts.dispose(db, runtime=runtime, actor=actor, alert_id=alert_id, disposition=disposition, note=note)
    except RTCCError as failure:
        return RedirectResponse("/console/alerts?error=" + quote(failure.message), status_code=303)
    return RedirectResponse("/console/alerts?notice=" + quote(f"Alert {alert_id} closed: {disposition}."), status_code=303)


@router.get("/console/plates")
def plate_search_page(request: Request, plate: str = "", mode: str = "exact", purpose: str = "", case_number: str = "",
                      purpose_category: str = ""):
    """Plate search: the form asks for a purpose, a case number and a purpose category of the managed list before it
    searches anything; a refused search shows the form again as it was filled in."""
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "alpr.search")
    reads, error = [], None
    with runtime.database.session() as db:
        categories = all_purposes(db)
    if plate:
        try:
            with runtime.database.session() as db:
                try:
                    reads = plate_search.search_reads(db, runtime=runtime, actor=actor,
                                                      query=plate_search.PlateQuery(plate=plate, mode=mode),
                                                      purpose=purpose, case_number=case_number, limit=200,
                                                      purpose_category=purpose_category or None)
                except PolicyRefused:
                    db.commit()  # the refusal stays on record (nothing else was written)
                    raise
        except RTCCError as failure:
            error = failure.message
    return render(request, "plates.html", actor=actor, csrf_token=user_session.csrf_token, reads=reads, error=error,
                  categories=categories, searched=bool(plate),
                  form={"plate": plate, "mode": mode, "purpose": purpose, "case_number": case_number,
                        "purpose_category": purpose_category})
