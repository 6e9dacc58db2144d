"""The transparency portal's JSON: the public document and annual report (no sign-in) and the admin's year entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.auth.permissions import PUBLIC
from rtcc.core.actor import Actor
from rtcc.governance.transparency import service
from rtcc.governance.transparency.schemas import AnnualReport, TransparencyDocument, YearEntryIn, YearEntryOut

router = APIRouter(tags=["transparency"])
ReportYear = Annotated[int, Path(ge=service.FIRST_REPORT_YEAR, le=2100, description="Calendar year (UTC).")]


def public_cache_headers(response: Response, request: Request) -> None:
    """Browsers and proxies may keep the figures as long as the server does."""
    seconds = int(get_runtime(request).settings.transparency_cache_seconds)
    response.headers["cache-control"] = f"public, max-age={seconds}"


@router.get("/public/transparency", response_model=TransparencyDocument, openapi_extra=needs(PUBLIC))
def transparency(request: Request, response: Response):
    """No sign-in: the figures of the public transparency portal, counted from the database (cached briefly)."""
    document = service.public_document(get_runtime(request))
    public_cache_headers(response, request)
    return document


@router.get("/public/transparency/report/{year}", response_model=AnnualReport, openapi_extra=needs(PUBLIC))
def annual_report(year: ReportYear, request: Request, response: Response):
    """No sign-in: a year's surveillance report (uses, volumes, sharing, complaints, audits, effectiveness, costs)."""
    report = service.annual_report(get_runtime(request), year=year)
    public_cache_headers(response, request)
    return report


@router.get("/transparency/years", response_model=list[YearEntryOut], openapi_extra=needs("transparency.manage"))
def list_years(request: Request, actor: Actor = Depends(authorize)):
    """The costs and complaints entered per year, newest first."""
    with get_runtime(request).database.read_session() as db:
        return [service.year_entry_out(entry) for entry in service.list_year_entries(db)]


@router.put("/transparency/years/{year}", response_model=YearEntryOut, openapi_extra=needs("transparency.manage"))
def save_year(year: ReportYear, body: YearEntryIn, request: Request, actor: Actor = Depends(authorize)):
    """Enter or replace a year's costs and complaints (published as entered in that year's report; audited)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.year_entry_out(service.save_year_entry(db, runtime=runtime, actor=actor, year=year, values=body))
