"""The flag rules: each one small function over audit records that says, in words, why it fired.

A rule reads the audit records of the actions it names (or of an outcome) that it has not flagged before, and
returns findings: one person's records that together break it, with the explanation a supervisor reads. The
service stores each finding as a flag linked to its records; a record is flagged at most once per rule (a unique
key in audit_flag_records), so running flagging twice flags nothing twice. Thresholds are settings (review/settings.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rtcc.alpr.plates import normalise_plate
from rtcc.audit.models import AuditRecord
from rtcc.cameras.models import Camera
from rtcc.cameras.service import cameras_by_ids
from rtcc.governance.review.settings import ReviewSettings
from rtcc.incidents.models import CallForService, Incident, IncidentCamera, IncidentTimelineEntry

PLATE_SEARCH = "alpr.search"
FOOTAGE_EXPORT = "video.export"
# Every look at a camera's video that is audited with the camera as its object.
CAMERA_VIEWS = ("video.live", "video.playback", "video.snapshot", "video.recordings")
# Cameras that belong to a business or a resident and are shared with the centre: a look needs a reason on record.
PRIVATE_CAMERA_KINDS = ("private_registered", "private_integrated")


@dataclass(frozen=True)
class Finding:
    """One person's records that together break a rule, and why in words."""

    username: str
    agency_ori: str | None
    explanation: str
    records: list[AuditRecord]


@dataclass(frozen=True)
class RuleContext:
    """What a rule may consult beside the records: the database (cases, cameras, incidents) and the thresholds."""

    session: Session
    settings: ReviewSettings

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.settings.review_time_zone))

    def when(self, moment: datetime) -> str:
        return self.local(moment).strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True)
class Rule:
    """A rule: its name (stored on its flags), a title for the queue, and what it reads."""

    name: str
    title: str
    find: Callable[[RuleContext, list[AuditRecord]], list[Finding]]
    actions: tuple[str, ...] = ()  # the audit actions it reads (with outcome success), or
    outcome: str = "success"  # ... every action of this outcome when actions is empty
    # A further SQL condition that needs the database to build (which cameras are private), or None.
    narrow: Callable[[Session], object] | None = None
    # A rule over a window (N records within it) reads, besides the new records, the unflagged ones up to this
    # long before them; None: each record is judged alone, once. From the settings.
    window: Callable[[ReviewSettings], timedelta] | None = None

    def condition(self, session: Session):
        """The SQL condition selecting the records this rule reads."""
        condition = AuditRecord.outcome == self.outcome
        if self.actions:
            condition &= AuditRecord.action.in_(self.actions)
        return condition if self.narrow is None else condition & self.narrow(session)


# --- helpers the rules share --------------------------------------------------------------------------------------

def _terms(record: AuditRecord) -> dict:
    return json.loads(record.query_terms) if record.query_terms else {}


def _details(record: AuditRecord) -> dict:
    return json.loads(record.details) if record.details else {}


def _by(records: Iterable[AuditRecord], key: Callable[[AuditRecord], object]) -> dict[object, list[AuditRecord]]:
    groups: dict[object, list[AuditRecord]] = defaultdict(list)
    for record in records:
        groups[key(record)].append(record)
    return groups


def bursts(records: list[AuditRecord], *, count: int, window: timedelta) -> list[list[AuditRecord]]:
    """Runs of at least `count` records that all fall within `window` of the run's first; each record in one run."""
    ordered = sorted(records, key=lambda record: record.seq)
    found, start = [], 0
    while start < len(ordered):
        end = start
        while end < len(ordered) and ordered[end].occurred_at - ordered[start].occurred_at <= window:
            end += 1
        if end - start >= count:
            found.append(ordered[start:end])
            start = end
        else:
            start += 1
    return found


# A case number is linked when it names a call for service or an incident on record (CAD call ids are the case
# numbers of the floor). Each source answers which of the given numbers it knows; cases and community requests
# (issue 14) add theirs here.
def _calls_known(session: Session, numbers: set[str]) -> set[str]:
    return set(session.execute(select(CallForService.call_id).where(CallForService.call_id.in_(numbers))).scalars())


def _incidents_known(session: Session, numbers: set[str]) -> set[str]:
    return set(session.execute(select(Incident.call_id).where(Incident.call_id.in_(numbers))).scalars())


CASE_SOURCES: tuple[Callable[[Session, set[str]], set[str]], ...] = (_calls_known, _incidents_known)


def unlinked_case_numbers(session: Session, numbers: set[str]) -> set[str]:
    """The case numbers among these that name nothing on record."""
    known: set[str] = set()
    for source in CASE_SOURCES:
        known |= source(session, numbers - known)
    return numbers - known


def _open_at(moment: datetime):
    return (Incident.opened_at <= moment) & or_(Incident.closed_at.is_(None), Incident.closed_at > moment)


def _docked_to_open_incident(session: Session, camera_id: int, moment: datetime) -> bool:
    statement = (select(Incident.id).join(IncidentCamera, IncidentCamera.incident_id == Incident.id)
                 .where(IncidentCamera.camera_id == camera_id, _open_at(moment)).limit(1))
    return session.execute(statement).first() is not None


def _footage_requested_for_open_incident(session: Session, camera_id: int, moment: datetime) -> bool:
    statement = (select(IncidentTimelineEntry.data).join(Incident, IncidentTimelineEntry.incident_id == Incident.id)
                 .where(IncidentTimelineEntry.kind == "footage_requested", IncidentTimelineEntry.at <= moment,
                        _open_at(moment)))
    return any((data or {}).get("camera_id") == camera_id for data in session.execute(statement).scalars())


# What makes a look at a private camera one with a reason on record: the camera works an open incident, or its
# owner was asked for footage for one. Issue 14's community requests (an owner's camera under an active request)
# add their check here.
VIEW_CONTEXTS: tuple[Callable[[Session, int, datetime], bool], ...] = (
    _docked_to_open_incident, _footage_requested_for_open_incident,
)


def _looks_at_private_cameras(session: Session):
    # In SQL, so a video wall's stills of city cameras are never read back each run.
    private = session.execute(select(Camera.id).where(Camera.kind.in_(PRIVATE_CAMERA_KINDS))).scalars().all()
    return (AuditRecord.object_type == "camera") & AuditRecord.object_id.in_([str(camera_id) for camera_id in private])


def _in_context(session: Session, camera_id: int, moment: datetime) -> bool:
    return any(check(session, camera_id, moment) for check in VIEW_CONTEXTS)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


# --- the rules ----------------------------------------------------------------------------------------------------

def searches_without_case(context: RuleContext, records: list[AuditRecord]) -> list[Finding]:
    """Plate searches whose case number names no call for service or incident on record."""
    unlinked = unlinked_case_numbers(context.session, {record.case_number for record in records if record.case_number})
    suspect = [record for record in records if record.case_number in unlinked or not record.case_number]
    findings = []
    for (username, agency, case), group in _by(suspect, lambda r: (r.username, r.agency_ori, r.case_number)).items():
        findings.append(Finding(username, agency, (
            f"{username} searched plates {_times(len(group))} ({context.when(group[0].occurred_at)} to "
            f"{context.when(group[-1].occurred_at)}) under case number '{case or ''}', which names no call for "
            f"service or incident on record."), group))
    return findings


def repeated_plate_search(context: RuleContext, records: list[AuditRecord]) -> list[Finding]:
    """One user searching one plate at least N times within a window."""
    settings = context.settings
    count, hours = settings.review_plate_search_count, settings.review_plate_search_window_hours

    def plate_of(record: AuditRecord) -> str:
        terms = _terms(record)
        plate = str(terms.get("plate") or "")
        return plate.strip().upper() if terms.get("mode") == "wildcard" else normalise_plate(plate)

    findings = []
    for (username, agency, plate), group in _by(records, lambda r: (r.username, r.agency_ori, plate_of(r))).items():
        if not plate:
            continue
        for run in bursts(group, count=count, window=timedelta(hours=hours)):
            findings.append(Finding(username, agency, (
                f"{username} searched plate {plate} {len(run)} times between {context.when(run[0].occurred_at)} and "
                f"{context.when(run[-1].occurred_at)} (the threshold is {count} searches of one plate by one user "
                f"in {hours} h)."), run))
    return findings


def after_hours_bulk_search(context: RuleContext, records: list[AuditRecord]) -> list[Finding]:
    """Wildcard searches, and searches returning many reads, made after hours."""
    settings = context.settings
    start, end = settings.review_after_hours_start, settings.review_after_hours_end

    def after_hours(moment: datetime) -> bool:
        local = context.local(moment).time()
        return start <= local < end if start < end else (local >= start or local < end)

    def why_bulk(record: AuditRecord) -> str | None:
        terms, results = _terms(record), int(_details(record).get("results") or 0)
        if terms.get("mode") == "wildcard":
            return f"wildcard '{terms.get('plate')}'"
        if results >= settings.review_bulk_search_results:
            return f"{results} reads returned for '{terms.get('plate')}'"
        return None

    suspect = [(record, why) for record in records
               if after_hours(record.occurred_at) and (why := why_bulk(record)) is not None]
    findings = []
    for (username, agency), group in _by(suspect, lambda pair: (pair[0].username, pair[0].agency_ori)).items():
        listed = "; ".join(f"{why} at {context.when(record.occurred_at)}" for record, why in group)
        findings.append(Finding(username, agency, (
            f"{username} ran {len(group)} bulk or wildcard plate search{'es' if len(group) > 1 else ''} after hours "
            f"({start:%H:%M} to {end:%H:%M} {settings.review_time_zone}): {listed}."), [record for record, _ in group]))
    return findings


def repeated_denied_access(context: RuleContext, records: list[AuditRecord]) -> list[Finding]:
    """One user refused access at least N times within a window."""
    settings = context.settings
    count, minutes = settings.review_denied_count, settings.review_denied_window_minutes
    findings = []
    for (username, agency), group in _by(records, lambda r: (r.username, r.agency_ori)).items():
        for run in bursts(group, count=count, window=timedelta(minutes=minutes)):
            refused = _by(run, lambda r: f"{r.action} {r.object_id or r.object_type or ''}".strip())
            listed = ", ".join(f"{what} x{len(times)}" for what, times in refused.items())
            findings.append(Finding(username, agency, (
                f"{username} was refused access {len(run)} times between {context.when(run[0].occurred_at)} and "
                f"{context.when(run[-1].occurred_at)} (the threshold is {count} in {minutes} min): {listed}."), run))
    return findings


def private_camera_view_outside_request(context: RuleContext, records: list[AuditRecord]) -> list[Finding]:
    """Looks at a private (business or resident) camera's video with no open incident or request behind them."""
    ids = {int(record.object_id) for record in records if record.object_type == "camera" and (record.object_id or "").isdigit()}
    private = {camera.id: camera for camera, _ in cameras_by_ids(context.session, sorted(ids))
               if camera.kind in PRIVATE_CAMERA_KINDS}
    suspect = [record for record in records if record.object_type == "camera" and (record.object_id or "").isdigit()
               and int(record.object_id) in private
               and not _in_context(context.session, int(record.object_id), record.occurred_at)]
    findings = []
    for (username, agency, camera_id), group in _by(suspect, lambda r: (r.username, r.agency_ori, int(r.object_id))).items():
        camera = private[camera_id]
        looks = ", ".join(sorted({record.action.removeprefix("video.") for record in group}))
        owner = f", owner {camera.owner_name}" if camera.owner_name else ""
        findings.append(Finding(username, agency, (
            f"{username} looked at private camera {camera_id} '{camera.name}'{owner} {_times(len(group))} ({looks}; "
            f"{context.when(group[0].occurred_at)} to {context.when(group[-1].occurred_at)}) while no open incident "
            f"docked it or had asked its owner for footage."), group))
    return findings


def export_without_case(context: RuleContext, records: list[AuditRecord]) -> list[Finding]:
    """Footage exported under a case number that names no call for service or incident on record."""
    unlinked = unlinked_case_numbers(context.session, {record.case_number for record in records if record.case_number})
    suspect = [record for record in records if record.case_number in unlinked or not record.case_number]
    findings = []
    for (username, agency, case), group in _by(suspect, lambda r: (r.username, r.agency_ori, r.case_number)).items():
        cameras = ", ".join(sorted({record.object_id or "?" for record in group}))
        findings.append(Finding(username, agency, (
            f"{username} exported footage {_times(len(group))} (camera {cameras}; {context.when(group[0].occurred_at)}"
            f" to {context.when(group[-1].occurred_at)}) under case number '{case or ''}', which names no call for "
            f"service or incident on record."), group))
    return findings


RULES: tuple[Rule, ...] = (
    Rule("search_without_case", "Plate search under no case on record", searches_without_case, actions=(PLATE_SEARCH,)),
    Rule("repeated_plate_search", "One plate searched many times by one user", repeated_plate_search,
         actions=(PLATE_SEARCH,), window=lambda settings: timedelta(hours=settings.review_plate_search_window_hours)),
    Rule("after_hours_bulk_search", "Bulk or wildcard plate search after hours", after_hours_bulk_search,
         actions=(PLATE_SEARCH,)),
    Rule("repeated_denied_access", "Repeated denied access", repeated_denied_access, outcome="denied",
         window=lambda settings: timedelta(minutes=settings.review_denied_window_minutes)),
    Rule("private_camera_view", "Private camera viewed outside an active incident or request",
         private_camera_view_outside_request, actions=CAMERA_VIEWS, narrow=_looks_at_private_cameras),
    Rule("export_without_case", "Footage exported under no case on record", export_without_case,
         actions=(FOOTAGE_EXPORT,)),
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}
