"""The public transparency portal's pages (no sign-in) and the admin's page for a year's costs and complaints.

/transparency shows the live figures (rtcc.governance.transparency); /transparency/report/<year> is the annual
surveillance report, and /transparency/report/<year>.pdf the same page printed by WeasyPrint. Every figure
comes from the service's short cache, PDFs included, so the pages cost the database no more than the JSON.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from rtcc.auth.guard import get_runtime
from rtcc.core import clock
from rtcc.core.errors import NotFound, RTCCError
from rtcc.governance.transparency import service
from rtcc.governance.transparency.schemas import CostLine, YearEntryIn
from rtcc.web.pages import WEB_DIR, check_form_csrf, render, signed_in

router = APIRouter(include_in_schema=False)
PRINT_STYLESHEET: Path = WEB_DIR / "static" / "transparency.css"
MIN_REFRESH_SECONDS = 15  # the overview reloads itself so a screen in the lobby shows the figures as they move


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _when(value: datetime | None) -> str:
    return clock.iso(value)[:16].replace("T", " ") + " UTC" if value else "never"


def _page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    response = render(request, template, status_code=status_code, money=_money, when=_when,
                      this_year=clock.utcnow().year, **context)
    response.headers["cache-control"] = f"public, max-age={int(get_runtime(request).settings.transparency_cache_seconds)}"
    return response


@router.get("/transparency")
def overview(request: Request):
    """The live figures: cameras, plates, looks, purposes, sharing, retention, holds, review, policies."""
    runtime = get_runtime(request)
    document = service.public_document(runtime)
    refresh = max(MIN_REFRESH_SECONDS, int(document.cache_seconds))
    return _page(request, "transparency.html", doc=document, refresh_seconds=refresh)


def _report_or_missing(request: Request, year: int):
    try:
        return service.annual_report(get_runtime(request), year=year), None
    except NotFound as missing:
        return None, _page(request, "transparency.html", status_code=404, doc=None, refresh_seconds=None,
                           missing=missing.message)


@router.get("/transparency/report/{year}.pdf")
def annual_report_pdf(year: int, request: Request):
    """The annual surveillance report as a PDF (the HTML report, printed)."""
    report, missing = _report_or_missing(request, year)
    if missing:
        return missing
    runtime = get_runtime(request)
    pdf = service.cached(runtime, ("pdf", year, report.generated_at),
                         compute=lambda: _print(request, report))
    return Response(pdf, media_type="application/pdf", headers={
        "content-disposition": f'inline; filename="surveillance-report-{year}.pdf"',
        "cache-control": f"public, max-age={int(runtime.settings.transparency_cache_seconds)}"})


def _print(request: Request, report) -> bytes:
    import weasyprint  # loads pango: only when a PDF is asked for

    html = render(request, "transparency_report.html", report=report, money=_money, when=_when, printed=True).body
    return weasyprint.HTML(string=html.decode(), base_url=str(WEB_DIR)).write_pdf(
        stylesheets=[weasyprint.CSS(filename=str(PRINT_STYLESHEET))])


@router.get("/transparency/report/{year}")
def annual_report(year: int, request: Request):
    """The annual surveillance report: uses, volumes, sharing, complaints, audits, effectiveness, costs."""
    report, missing = _report_or_missing(request, year)
    return missing or _page(request, "transparency_report.html", report=report, printed=False)


# --- the admin's entries -----------------------------------------------------------------------------------


def parse_cost_lines(text: str) -> list[CostLine]:
    """One cost per line, 'item; amount' (amount in dollars, e.g. 12,500.00)."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        item, separator, amount = raw.rpartition(";")
        if not separator:
            raise ValueError(f"cost line {number}: write 'item; amount'")
        try:
            cents = round(float(amount.strip().lstrip("$").replace(",", "")) * 100)
        except ValueError:
            raise ValueError(f"cost line {number}: {amount.strip()!r} is not an amount in dollars") from None
        lines.append(CostLine(item=item.strip(), cents=cents))
    return lines


def _whole(text: str, name: str) -> int:
    try:
        return int((text or "0").strip())
    except ValueError:
        raise ValueError(f"{name}: {text.strip()!r} is not a whole number") from None


def _years_page(request: Request, actor, user_session, *, notice=None, error=None, form=None, status_code=200):
    runtime = get_runtime(request)
    with runtime.database.read_session() as db:
        entries = [service.year_entry_out(entry) for entry in service.list_year_entries(db)]
    return render(request, "transparency_years.html", status_code=status_code, actor=actor,
                  csrf_token=user_session.csrf_token, entries=entries, notice=notice, error=error, money=_money,
                  form=form or {"year": clock.utcnow().year}, this_year=clock.utcnow().year)


@router.get("/console/transparency")
def years_page(request: Request, notice: str | None = None, year: int | None = None):
    """The entries per year; ?year= fills the form with that year's entry to change it."""
    actor, user_session = signed_in(request, "transparency.manage")
    form = None
    if year is not None:
        with get_runtime(request).database.read_session() as db:
            entry = next((entry for entry in service.list_year_entries(db) if entry.year == year), None)
            form = {"year": year, "complaints_received": entry.complaints_received,
                    "complaints_sustained": entry.complaints_sustained, "notes": entry.notes or "",
                    "cost_lines": "\n".join(f"{line['item']}; {line['cents'] / 100:,.2f}" for line in entry.cost_lines),
                    } if entry else {"year": year}
    return _years_page(request, actor, user_session, notice=notice, form=form)


@router.post("/console/transparency")
def save_year_submit(request: Request, year: str = Form(""), complaints_received: str = Form("0"),
                     complaints_sustained: str = Form("0"), cost_lines: str = Form(""), notes: str = Form(""),
                     csrf_token: str = Form("")):
    runtime = get_runtime(request)
    actor, user_session = signed_in(request, "transparency.manage")
    check_form_csrf(user_session, csrf_token)
    form = {"year": year, "complaints_received": complaints_received, "complaints_sustained": complaints_sustained,
            "cost_lines": cost_lines, "notes": notes}
    try:
        values = YearEntryIn(complaints_received=_whole(complaints_received, "complaints received"),
                             complaints_sustained=_whole(complaints_sustained, "complaints sustained"),
                             cost_lines=parse_cost_lines(cost_lines), notes=notes)
        with runtime.database.session() as db:
            service.save_year_entry(db, runtime=runtime, actor=actor, year=_whole(year, "year"), values=values)
    except ValidationError as invalid:
        message = "; ".join(error["msg"].removeprefix("Value error, ") for error in invalid.errors())
        return _years_page(request, actor, user_session, error=message, form=form, status_code=422)
    except (ValueError, RTCCError) as invalid:  # the form is shown again as typed: nothing is lost
        message = invalid.message if isinstance(invalid, RTCCError) else str(invalid)
        return _years_page(request, actor, user_session, error=message, form=form, status_code=422)
    return RedirectResponse("/console/transparency?notice=" + quote(f"{year} saved: it shows in that year's report."),
                            status_code=303)
