"""The transparency document and the annual report, assembled from figures.py and served from a short cache;
the year entries (costs, complaints) an admin keeps.

Anyone may ask for the public figures without signing in, so counting them must not be a way to load the
database: each answer is kept for RTCC_TRANSPARENCY_CACHE_SECONDS, and while one request counts, the others
wait for its answer instead of counting again (one count at a time per database, whatever the traffic).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import NotFound
from rtcc.core.runtime import Runtime
from rtcc.governance.transparency import figures
from rtcc.governance.transparency import schemas as out
from rtcc.governance.transparency.events import TransparencyYearSaved
from rtcc.governance.transparency.models import TransparencyYear
from rtcc.governance.transparency.settings import TransparencySettings

FIRST_REPORT_YEAR = 2000
T = TypeVar("T")


class FigureCache:
    """Answers kept for a few seconds by key; one computation at a time (the others wait and reuse it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[object, tuple[datetime, object]] = {}

    def get(self, key: object, *, seconds: float, compute: Callable[[], T]) -> T:
        with self._lock:
            now = clock.utcnow()
            kept = self._kept.get(key)
            if kept is not None and now - kept[0] < timedelta(seconds=seconds):
                return kept[1]  # type: ignore[return-value]
            value = compute()
            # Old answers go (a report's PDF is keyed by the figures' time, so keys do not pile up).
            self._kept = {kept_key: kept for kept_key, kept in self._kept.items()
                          if now - kept[0] < timedelta(seconds=seconds)}
            self._kept[key] = (now, value)
            return value


_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cache_of(runtime: Runtime) -> FigureCache:
    return _caches.setdefault(runtime.database, FigureCache())


def cached(runtime: Runtime, key: object, *, compute: Callable[[], T]) -> T:
    """Anything derived from the figures (a printed report), kept as long as they are."""
    return _cache_of(runtime).get(key, seconds=_settings(runtime).transparency_cache_seconds, compute=compute)


def _settings(runtime: Runtime) -> TransparencySettings:
    return runtime.settings  # type: ignore[return-value]  # the server's Settings includes TransparencySettings


def public_document(runtime: Runtime) -> out.TransparencyDocument:
    """The public portal's figures, at most RTCC_TRANSPARENCY_CACHE_SECONDS old."""
    settings = _settings(runtime)
    return _cache_of(runtime).get("document", seconds=settings.transparency_cache_seconds,
                                  compute=lambda: count_document(runtime))


def count_document(runtime: Runtime) -> out.TransparencyDocument:
    """Count every section now (uncached): one read-only snapshot of the database."""
    settings = _settings(runtime)
    small = settings.transparency_small_count
    now = clock.utcnow()
    period = figures.Period.last_days(now)
    with runtime.database.read_session() as db:
        return out.TransparencyDocument(
            generated_at=now, cache_seconds=settings.transparency_cache_seconds, window=period.window(),
            small_count_threshold=small,
            cameras=figures.cameras(db, runtime=runtime),
            plates=figures.plates(db, period=period, small=small),
            calls=figures.calls(db, period=period),
            looks=figures.looks(db, period=period),
            searches_by_purpose=figures.searches_by_purpose(db, period=period, small=small),
            sharing=figures.sharing(db, period=period, small=small),
            retention=figures.retention(db, runtime=runtime),
            holds=figures.holds(db, now=now, small=small),
            audit_review=figures.audit_review(db, period=period, small=small),
            policies=figures.policies(db),
            releases=figures.releases(db, period=period),
        )


def report_year_period(year: int) -> figures.Period:
    """The calendar year (UTC), up to now for the current one; NotFound for a year with no report."""
    now = clock.utcnow()
    if not FIRST_REPORT_YEAR <= year <= now.year:
        raise NotFound(f"There is no report for {year}: reports cover {FIRST_REPORT_YEAR} to {now.year}.",
                       code="report_year_not_found")
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    return figures.Period(start, min(datetime(year + 1, 1, 1, tzinfo=timezone.utc), now))


def annual_report(runtime: Runtime, *, year: int) -> out.AnnualReport:
    """A year's surveillance report, at most RTCC_TRANSPARENCY_CACHE_SECONDS old."""
    period = report_year_period(year)
    return _cache_of(runtime).get(("report", year), seconds=_settings(runtime).transparency_cache_seconds,
                                  compute=lambda: count_annual_report(runtime, year=year, period=period))


def count_annual_report(runtime: Runtime, *, year: int, period: figures.Period) -> out.AnnualReport:
    small = _settings(runtime).transparency_small_count
    with runtime.database.read_session() as db:
        plates = figures.plates(db, period=period, small=small)
        looks = figures.looks(db, period=period)
        calls = figures.calls(db, period=period)
        records, verifications = figures.audit_activity(db, period=period)
        entry = db.get(TransparencyYear, year)
        if entry is None:
            complaints = figures.unavailable(out.ComplaintsSection, f"No complaints were entered for {year} yet.")
            costs = figures.unavailable(out.CostsSection, f"No costs were entered for {year} yet.")
        else:
            complaints = out.ComplaintsSection(received=entry.complaints_received, sustained=entry.complaints_sustained,
                                               notes=entry.notes)
            lines = [out.CostLine(**line) for line in entry.cost_lines]
            costs = out.CostsSection(lines=lines, total_cents=sum(line.cents for line in lines))
        return out.AnnualReport(
            year=year, generated_at=clock.utcnow(), window=period.window(), small_count_threshold=small,
            uses=looks,
            data_volumes=out.DataVolumes(plate_reads=plates.reads, calls_received=calls.calls_received,
                                         incidents_opened=calls.incidents_opened, hotlist_hits=plates.hotlist_hits,
                                         video_hours_recorded=figures.video_hours(db, period=period),
                                         evidence_exports=looks.evidence_exports),
            cameras=figures.cameras(db, runtime=runtime),
            sharing=figures.sharing(db, period=period, small=small),
            searches_by_purpose=figures.searches_by_purpose(db, period=period, small=small),
            complaints=complaints,
            audits=out.AuditsSection(chain_verifications=verifications, audit_records=records,
                                     review=figures.audit_review(db, period=period, small=small)),
            effectiveness=out.Effectiveness(confirmed_hits=plates.confirmed_hits,
                                            arrests=figures.arrests(db, period=period, small=small)),
            costs=costs,
            retention=figures.retention(db, runtime=runtime),
            policies=figures.policies(db),
            releases=figures.releases(db, period=period),
        )


# --- what the admin enters -------------------------------------------------------------------------------


def year_entry_out(entry: TransparencyYear) -> out.YearEntryOut:
    return out.YearEntryOut(year=entry.year, complaints_received=entry.complaints_received,
                            complaints_sustained=entry.complaints_sustained, cost_lines=entry.cost_lines,
                            notes=entry.notes, total_cost_cents=sum(line["cents"] for line in entry.cost_lines),
                            updated_by=entry.updated_by, updated_at=entry.updated_at)


def list_year_entries(session: Session) -> list[TransparencyYear]:
    return list(session.scalars(select(TransparencyYear).order_by(TransparencyYear.year.desc())))


def save_year_entry(session: Session, *, runtime: Runtime, actor: Actor, year: int,
                    values: out.YearEntryIn) -> TransparencyYear:
    """Enter or replace a year's costs and complaints (audited, with what was there before)."""
    report_year_period(year)  # a year with no report takes no entry either
    entry = session.get(TransparencyYear, year)
    before = year_entry_out(entry).model_dump(mode="json", include={"complaints_received", "complaints_sustained",
                                                                    "total_cost_cents"}) if entry else None
    if entry is None:
        entry = TransparencyYear(year=year)
        session.add(entry)
    entry.complaints_received, entry.complaints_sustained = values.complaints_received, values.complaints_sustained
    entry.cost_lines = [line.model_dump() for line in values.cost_lines]
    entry.notes = (values.notes or "").strip() or None
    entry.updated_by, entry.updated_at = actor.username or actor.via, clock.utcnow()
    session.flush()
    total = sum(line.cents for line in values.cost_lines)
    audit.record(session, keys=runtime.keys, actor=actor, object_type="transparency_year", object_id=year,
                 event=TransparencyYearSaved(agency_ori=None, year=year, complaints_received=values.complaints_received,
                                             complaints_sustained=values.complaints_sustained, total_cost_cents=total),
                 details={"before": before, "cost_lines": len(values.cost_lines)})
    forget_cached(runtime)
    return entry


def forget_cached(runtime: Runtime) -> None:
    """Drop the kept answers (an admin's entry shows in the next report at once)."""
    _caches.pop(runtime.database, None)
