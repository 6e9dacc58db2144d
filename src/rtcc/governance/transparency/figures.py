"""The public figures, one function per section, each a query over the system of record (never a typed-in number).

Bucketing: a figure that could point at one investigation (hotlist hits, confirmed hits, arrests, searches per
purpose, shares per recipient agency, holds, referrals) is published exactly when it is 0 or at least
`small` (RTCC_TRANSPARENCY_SMALL_COUNT, default 5), and as "fewer than 5" from 1 to 4: a reader learns that
something happened, not that one car was hit near one address last week. Volumes that describe the system
rather than a case (cameras, plate reads, looks at the data) are exact.

Sections that read another part of governance or the policy engine ask it through its service function; where
that part is not in this build the section says so (`available: false`, with the reason) instead of a number.
"""

from __future__ import annotations

import importlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.alpr.models import PlateAlert, PlateRead
from rtcc.audit.models import AuditRecord
from rtcc.auth.models import Agency
from rtcc.cameras import health
from rtcc.cameras.models import CAMERA_KINDS, Camera
from rtcc.core.runtime import Runtime
from rtcc.governance.transparency import schemas as out
from rtcc.incidents.models import CallForService, Incident
from rtcc.video.models import RecordingSegment
from rtcc.video.recording.uptime import SegmentIndexFacts

WINDOW_DAYS = 30
# The audit actions that are a person looking at surveillance data (each recorded with its purpose).
LOOK_ACTIONS = {"plate_searches": "alpr.search", "video_playbacks": "video.playback", "live_views": "video.live",
                "evidence_exports": "video.export", "field_shares": "share.create"}
# How CAD systems write an arrest in a call's disposition (the CAD's column kept in the call's extra fields).
ARREST_DISPOSITIONS = ("arrest", "arrested", "arr", "arrest made", "booked", "custodial arrest")
DISPOSITION_FIELDS = ("disposition", "dispo", "disposition_code", "clearance")
UNCATEGORISED = "uncategorised"


@dataclass(frozen=True)
class Period:
    """The span a figure covers: [start, end)."""

    start: datetime
    end: datetime

    @classmethod
    def last_days(cls, now: datetime, days: int = WINDOW_DAYS) -> Period:
        return cls(now - timedelta(days=days), now)

    def window(self) -> out.Window:
        return out.Window(start=self.start, end=self.end, days=max(1, round((self.end - self.start).total_seconds() / 86400)))


def bucket(count: int, *, small: int) -> out.Count:
    """Exact at 0 and from `small` up; 'fewer than small' in between (see the module's note)."""
    if 0 < count < small:
        return out.Count(count=None, fewer_than=small, text=f"fewer than {small}")
    return out.Count(count=count, text=f"{count:,}")


def unavailable(model: type[out.Section], reason: str) -> Any:
    return model(available=False, reason=reason)


def provider(module: str, function: str) -> Callable | None:
    """Another part's service function, or None where that part is not in this build (a bug in it still raises)."""
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as missing:
        if missing.name and module.startswith(missing.name):
            return None
        raise
    return getattr(found, function, None)


# --- counted here, from the domains' own tables ------------------------------------------------------------


def cameras(session: Session, *, runtime: Runtime) -> out.CamerasSection:
    """Cameras by kind; of those that stream, how many work now and their mean recorded share of 30 days."""
    every = list(session.scalars(select(Camera)))
    board = health.health_board(session, cameras=every, recording_enabled=runtime.settings.recording_enabled,
                                segment_seconds=runtime.settings.segment_seconds, facts=SegmentIndexFacts())
    lines_by_kind = defaultdict(list)
    for line in board:
        lines_by_kind[line.camera.kind].append(line)
    counts = defaultdict(int)
    for camera in every:
        counts[camera.kind] += 1

    def figures(lines: list[health.CameraHealth]) -> tuple[int, float | None, float | None]:
        working = sum(line.status in health.WORKING_STATES for line in lines)
        if not lines:
            return working, None, None
        uptime = sum(line.uptime_percent.get("30d", 0.0) for line in lines) / len(lines)
        return working, round(100 * working / len(lines), 1), round(uptime, 1)

    by_kind = []
    for kind in sorted(counts, key=lambda kind: CAMERA_KINDS.index(kind) if kind in CAMERA_KINDS else len(CAMERA_KINDS)):
        working, percent, uptime = figures(lines_by_kind[kind])
        by_kind.append(out.CameraKind(kind=kind, cameras=counts[kind], streaming=len(lines_by_kind[kind]),
                                      working_now=working, working_now_percent=percent, uptime_30d_percent=uptime))
    working, percent, uptime = figures(board)
    return out.CamerasSection(total=len(every), streaming=len(board), working_now=working, working_now_percent=percent,
                              uptime_30d_percent=uptime, by_kind=by_kind)


def plates(session: Session, *, period: Period, small: int) -> out.PlatesSection:
    """Plate reads stored, hotlist hits (alerts raised) and hits a person confirmed, in the period."""
    reads = session.scalar(select(func.count()).select_from(PlateRead)
                           .where(PlateRead.read_at >= period.start, PlateRead.read_at < period.end))
    in_period = (PlateAlert.created_at >= period.start, PlateAlert.created_at < period.end)
    hits = session.scalar(select(func.count()).select_from(PlateAlert).where(*in_period))
    confirmed = session.scalar(select(func.count()).select_from(PlateAlert)
                               .where(*in_period, PlateAlert.disposition == "confirmed"))
    return out.PlatesSection(reads=reads or 0, hotlist_hits=bucket(hits or 0, small=small),
                             confirmed_hits=bucket(confirmed or 0, small=small))


def calls(session: Session, *, period: Period) -> out.CallsSection:
    """Calls for service received and incidents opened: how much the center was asked to do."""
    received = session.scalar(select(func.count()).select_from(CallForService).where(
        CallForService.received_at >= period.start, CallForService.received_at < period.end))
    opened = session.scalar(select(func.count()).select_from(Incident).where(
        Incident.opened_at >= period.start, Incident.opened_at < period.end))
    return out.CallsSection(calls_received=received or 0, incidents_opened=opened or 0)


def looks(session: Session, *, period: Period) -> out.LooksSection:
    """People's looks at plate and video data, counted from their audit records (successful ones)."""
    rows = session.execute(
        select(AuditRecord.action, func.count()).where(
            AuditRecord.action.in_(LOOK_ACTIONS.values()), AuditRecord.outcome == "success",
            AuditRecord.occurred_at >= period.start, AuditRecord.occurred_at < period.end,
        ).group_by(AuditRecord.action)
    ).all()
    by_action = dict(rows)
    return out.LooksSection(**{field: by_action.get(action, 0) for field, action in LOOK_ACTIONS.items()})


def audit_activity(session: Session, *, period: Period) -> tuple[int, int]:
    """(audit records appended, chain verifications) in the period."""
    in_period = (AuditRecord.occurred_at >= period.start, AuditRecord.occurred_at < period.end)
    records = session.scalar(select(func.count()).select_from(AuditRecord).where(*in_period))
    verifications = session.scalar(select(func.count()).select_from(AuditRecord)
                                   .where(*in_period, AuditRecord.action == "audit.verify"))
    return records or 0, verifications or 0


def video_hours(session: Session, *, period: Period) -> float:
    """Hours of video indexed (segments that ended in the period)."""
    seconds = session.scalar(select(func.sum(RecordingSegment.duration_s))
                             .where(RecordingSegment.ended_at >= period.start, RecordingSegment.ended_at < period.end))
    return round(float(seconds or 0) / 3600, 1)


def arrests(session: Session, *, period: Period, small: int) -> out.Count:
    """Calls for service closed in the period whose CAD disposition records an arrest.

    Dispositions arrive as the CAD's own column, kept in the call's extra fields; the codes counted are
    ARREST_DISPOSITIONS under any of DISPOSITION_FIELDS (case and spacing ignored)."""
    closed = session.scalars(select(CallForService.extra).where(
        CallForService.closed_at >= period.start, CallForService.closed_at < period.end))
    count = 0
    for extra in closed:
        fields = {str(key).strip().lower(): str(value).strip().lower() for key, value in (extra or {}).items()}
        if any(fields.get(name) in ARREST_DISPOSITIONS for name in DISPOSITION_FIELDS):
            count += 1
    return bucket(count, small=small)


# --- asked of the other parts of governance and of the policy engine ---------------------------------------


def searches_by_purpose(session: Session, *, period: Period, small: int) -> out.PurposesSection:
    """Looks at the data per purpose category of the policy engine's managed list (as each audit record names it).

    A look recorded before categories existed, or without one, counts as "uncategorised"."""
    all_purposes = provider("rtcc.policy.purposes", "all_purposes")
    if all_purposes is None:
        return unavailable(out.PurposesSection, "Purpose categories are not in this build yet: looks are counted "
                                                "in total, not per category.")
    titles = {purpose.code: purpose.title for purpose in all_purposes(session)}
    details = session.scalars(select(AuditRecord.details).where(
        AuditRecord.action.in_(LOOK_ACTIONS.values()), AuditRecord.outcome == "success",
        AuditRecord.occurred_at >= period.start, AuditRecord.occurred_at < period.end))
    counts: dict[str, int] = defaultdict(int)
    for text in details:
        category = (json.loads(text) if text else {}).get("purpose_category")
        counts[category if category in titles else UNCATEGORISED] += 1
    return out.PurposesSection(by_purpose=[
        out.PurposeCount(category=code, label=titles.get(code, "No category given"), count=bucket(count, small=small))
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))])


def sharing(session: Session, *, period: Period, small: int) -> out.SharingSection:
    """Shares, exports and federated queries per recipient agency, straight from the policy engine's decisions."""
    by_recipient = provider("rtcc.policy.service", "decisions_by_recipient")
    if by_recipient is None:
        return unavailable(out.SharingSection, "The policy engine that decides what leaves the agency is not in "
                                               "this build yet.")
    from rtcc.policy.models import AgencyProfile  # with the engine, its agency profiles

    agencies = {agency.ori: agency for agency in session.scalars(select(Agency))}
    kinds = dict(session.execute(select(AgencyProfile.agency_id, AgencyProfile.kind)).all())
    rows = []
    for row in by_recipient(session, since=period.start):
        agency = agencies.get(row["recipient_agency_ori"])
        rows.append(out.RecipientCount(
            agency=agency.name if agency else (row["recipient_agency_ori"] or "no agency named"),
            kind=kinds.get(agency.id) if agency else None, action=row["action"],
            allowed=bucket(row["allowed"], small=small), refused=bucket(row["refused"], small=small)))
    return out.SharingSection(by_recipient=rows)


def retention(session: Session, *, runtime: Runtime) -> out.RetentionSection:
    """The retention policy in force per data class, with the time of its last deletion receipt."""
    in_force = provider("rtcc.governance.retention.service", "policies_in_force")
    last_receipts = provider("rtcc.governance.retention.service", "last_receipt_per_class")
    if in_force is None or last_receipts is None:
        return unavailable(out.RetentionSection, "Retention policies per data class are not in this build yet.")
    receipts = last_receipts(session)
    classes = []
    for policy in in_force(session, runtime=runtime):
        receipt = receipts.get(policy.data_class)
        classes.append(out.RetentionClass(
            data_class=policy.data_class, keep=duration_text(policy.keep_for),
            clock_starts=policy.clock, action=policy.action,
            policy_version=policy.version or None, source=policy.citation or policy.source,
            last_purge_at=(receipt.finished_at or receipt.created_at) if receipt else None))
    return out.RetentionSection(classes=classes)


def holds(session: Session, *, now: datetime, small: int) -> out.HoldsSection:
    """Legal holds open now, and how many are past their review date."""
    open_holds = provider("rtcc.governance.retention.service", "open_holds")
    if open_holds is None:
        return unavailable(out.HoldsSection, "Legal holds are not in this build yet.")
    found = list(open_holds(session))
    overdue = sum(hold.review_at is not None and hold.review_at < now for hold in found)
    return out.HoldsSection(open=bucket(len(found), small=small), overdue_for_review=bucket(overdue, small=small))


def audit_review(session: Session, *, period: Period, small: int) -> out.ReviewSection:
    """Flags the audit review raised and what supervisors made of them; weekly reviews done against due."""
    status_of = provider("rtcc.governance.review.service", "review_status")
    if status_of is None:
        return unavailable(out.ReviewSection, "Audit review is not in this build yet.")
    status = status_of(session, since=period.start)
    return out.ReviewSection(flags_raised=status.flags_raised, flags_reviewed=status.flags_reviewed,
                             referred=bucket(status.flags_referred, small=small),
                             weekly_reviews_done=status.weekly_reviews_done, weekly_reviews_due=status.weekly_reviews_due)


def policies(session: Session) -> out.PoliciesSection:
    """The sharing and use policies the engine applies now."""
    in_force = provider("rtcc.policy.service", "policies_in_force")
    if in_force is None:
        return unavailable(out.PoliciesSection, "The policy engine is not in this build yet.")
    return out.PoliciesSection(policies=[
        out.PolicyInForce(name=policy["name"], description=policy["title"], source=policy["source"])
        for policy in in_force(session)])


def releases(session: Session, *, period: Period) -> out.ReleasesSection:
    """Public-records releases requested and released (approved) in the period."""
    counts_of = provider("rtcc.governance.releases.service", "release_counts")
    if counts_of is None:
        return unavailable(out.ReleasesSection, "Redacted public-records releases are not in this build yet.")
    counts = counts_of(session, since=period.start)
    return out.ReleasesSection(requested=counts["requested"], released=counts["approved"])


def duration_text(keep_for: timedelta) -> str:
    """A keep-for duration as a reader says it ('3 minutes', '21 days', '18 months', '1 year')."""
    seconds = int(keep_for.total_seconds())
    # Months only past a year (Vermont's 18 months): laws under a year speak in days (Maine 21, Minnesota 60).
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0 and (unit != "month" or seconds > 365 * 86400):
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds" if seconds else "0 (deleted when the clock starts)"
