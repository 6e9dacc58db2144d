"""Audit review's front door: raise flags over the audit trail, the supervisor's queue, reviews, weekly reviews.

A supervisor reviews the flags of their own agency, an auditor reads every agency's (auth/scope.py, kind AUDIT).
Every review and every look at a flag's records is audited.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.audit.models import AuditRecord
from rtcc.auth import scope
from rtcc.auth.models import Agency, User
from rtcc.auth.permissions import ROLES, permissions_of
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, NotFound
from rtcc.core.events import emit
from rtcc.core.runtime import Runtime
from rtcc.governance.review.events import FlagRaised, FlagReviewed, WeeklyReviewCompleted
from rtcc.governance.review.flags import RULES, RULES_BY_NAME, RuleContext
from rtcc.governance.review.models import (
    FLAG_STATUSES, OUTCOMES, AuditFlag, AuditFlagRecord, AuditFlagReview, ReviewProgress, WeeklyReview,
)
from rtcc.governance.review.settings import ReviewSettings

REVIEW_PERMISSION = "audit_review.record"  # who holds it owes a weekly review
MIN_NOTES = 5


# --- flagging -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FoundFlag:
    """A finding of a rule, reduced to what is stored (it outlives the read session that found it)."""

    rule: str
    username: str
    agency_ori: str | None
    explanation: str
    seqs: tuple[int, ...]
    first_at: datetime
    last_at: datetime


@dataclass
class Findings:
    flags: list[FoundFlag]
    read_up_to: int  # the newest record seq the rules read: where the next run starts


def find_flags(session: Session, *, settings: ReviewSettings) -> Findings:
    """Run every rule over the records it has not read yet (within the lookback window); reads only, so it may run
    in a read session that never holds SQLite's write lock."""
    now = clock.utcnow()
    since = now - timedelta(hours=settings.review_lookback_hours)
    newest = session.execute(select(func.max(AuditRecord.seq))).scalar_one() or 0
    progress = dict(session.execute(select(ReviewProgress.rule, ReviewProgress.last_seq)).all())
    context = RuleContext(session=session, settings=settings)
    found: list[FoundFlag] = []
    for rule in RULES:
        read = rule.condition(session) & (AuditRecord.occurred_at >= since) & (AuditRecord.seq <= newest) \
            & AuditRecord.username.is_not(None)
        new = read & (AuditRecord.seq > progress.get(rule.name, 0))
        if rule.window is None:
            statement = select(AuditRecord).where(new)
        else:
            # A burst holds a new record and lies within the window of it: read back one window from the first.
            first_new = session.execute(select(func.min(AuditRecord.occurred_at)).where(new)).scalar_one()
            if first_new is None:
                continue
            flagged_already = exists().where(AuditFlagRecord.rule == rule.name,
                                             AuditFlagRecord.audit_seq == AuditRecord.seq)
            statement = select(AuditRecord).where(read, AuditRecord.occurred_at >= first_new - rule.window(settings),
                                                  ~flagged_already)
        records = list(session.execute(statement.order_by(AuditRecord.seq)).scalars())
        for finding in rule.find(context, records) if records else []:
            found.append(FoundFlag(rule=rule.name, username=finding.username, agency_ori=finding.agency_ori,
                                   explanation=finding.explanation, seqs=tuple(r.seq for r in finding.records),
                                   first_at=finding.records[0].occurred_at, last_at=finding.records[-1].occurred_at))
    return Findings(flags=found, read_up_to=newest)


def store_flags(session: Session, findings: Findings) -> dict[str, int]:
    """Store what find_flags found and move each rule's progress on; a finding another run stored meanwhile (any
    of its records already flagged by its rule) is skipped. The flags raised per rule."""
    now = clock.utcnow()
    raised = {rule.name: 0 for rule in RULES}
    for found in findings.flags:
        taken = session.execute(select(AuditFlagRecord.audit_seq).where(
            AuditFlagRecord.rule == found.rule, AuditFlagRecord.audit_seq.in_(found.seqs)).limit(1)).first()
        if taken is not None:
            continue
        flag = AuditFlag(rule=found.rule, username=found.username, agency_ori=found.agency_ori,
                         explanation=found.explanation, record_count=len(found.seqs), first_at=found.first_at,
                         last_at=found.last_at, created_at=now, status="open")
        session.add(flag)
        session.flush()
        session.add_all([AuditFlagRecord(flag_id=flag.id, audit_seq=seq, rule=found.rule) for seq in found.seqs])
        emit(session, FlagRaised(agency_ori=flag.agency_ori, flag_id=flag.id, rule=found.rule,
                                 username=flag.username, record_count=flag.record_count))
        raised[found.rule] += 1
    for rule in RULES:
        progress = session.get(ReviewProgress, rule.name)
        if progress is None:
            session.add(ReviewProgress(rule=rule.name, last_seq=findings.read_up_to, updated_at=now))
        elif progress.last_seq < findings.read_up_to:
            progress.last_seq, progress.updated_at = findings.read_up_to, now
    session.flush()
    return raised


def raise_flags(session: Session, *, settings: ReviewSettings) -> dict[str, int]:
    """Find and store flags in one session (the job finds in a read session and stores in a short write)."""
    return store_flags(session, find_flags(session, settings=settings))


# --- the queue ----------------------------------------------------------------------------------------------------

def _visible_flags(actor: Actor):
    statement = select(AuditFlag)
    in_scope = scope.agency_condition(actor, AuditFlag.agency_ori, kind=scope.AUDIT)
    return statement if in_scope is None else statement.where(in_scope)


def list_flags(session: Session, *, actor: Actor, status: str | None = "open", rule: str | None = None,
               limit: int = 200) -> list[AuditFlag]:
    """Flags in the actor's scope, newest first; `status` None: every status."""
    if status is not None and status not in FLAG_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(FLAG_STATUSES)}.", code="invalid_status")
    if rule is not None and rule not in RULES_BY_NAME:
        raise InvalidInput(f"rule must be one of {', '.join(RULES_BY_NAME)}.", code="invalid_rule")
    statement = _visible_flags(actor)
    if status:
        statement = statement.where(AuditFlag.status == status)
    if rule:
        statement = statement.where(AuditFlag.rule == rule)
    return list(session.execute(statement.order_by(AuditFlag.id.desc()).limit(limit)).scalars())


def get_flag(session: Session, *, actor: Actor, flag_id: int) -> AuditFlag:
    """One flag in the actor's scope; another agency's answers as a missing one."""
    flag = session.execute(_visible_flags(actor).where(AuditFlag.id == flag_id)).scalar_one_or_none()
    if flag is None:
        raise NotFound(f"No flag {flag_id}.", code="flag_not_found")
    return flag


@dataclass
class FlagDetail:
    flag: AuditFlag
    records: list[AuditRecord]
    reviews: list[AuditFlagReview] = field(default_factory=list)


def flag_detail(session: Session, *, runtime: Runtime, actor: Actor, flag_id: int) -> FlagDetail:
    """A flag with the audit records it links and its reviews; the look is audited (the records name plates)."""
    flag = get_flag(session, actor=actor, flag_id=flag_id)
    seqs = select(AuditFlagRecord.audit_seq).where(AuditFlagRecord.flag_id == flag.id)
    records = list(session.execute(select(AuditRecord).where(AuditRecord.seq.in_(seqs)).order_by(AuditRecord.seq)).scalars())
    reviews = list(session.execute(select(AuditFlagReview).where(AuditFlagReview.flag_id == flag.id)
                                   .order_by(AuditFlagReview.id)).scalars())
    audit.record(session, keys=runtime.keys, actor=actor, action="audit_review.flag_view", object_type="audit_flag",
                 object_id=flag.id, purpose="audit review", details={"rule": flag.rule, "records": len(records)})
    return FlagDetail(flag=flag, records=records, reviews=reviews)


def review_flag(session: Session, *, runtime: Runtime, actor: Actor, flag_id: int, outcome: str,
                notes: str) -> AuditFlagReview:
    """Record a supervisor's decision on a flag of their agency (cleared or referred, with notes); audited."""
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}.", code="invalid_outcome")
    notes = " ".join((notes or "").split())
    if len(notes) < MIN_NOTES:
        raise InvalidInput("Say what the review found (notes, at least a few words).", code="notes_required")
    flag = get_flag(session, actor=actor, flag_id=flag_id)
    if flag.username == actor.username:
        # Nobody clears their own conduct: another supervisor (or an auditor's referral) must.
        raise InvalidInput("A flag raised on your own activity is reviewed by another supervisor.", code="own_flag")
    review = AuditFlagReview(flag_id=flag.id, reviewer=actor.username or "unknown", outcome=outcome, notes=notes,
                             reviewed_at=clock.utcnow())
    session.add(review)
    flag.status = outcome
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=FlagReviewed(agency_ori=flag.agency_ori, flag_id=flag.id, rule=flag.rule, outcome=outcome,
                                    reviewer=review.reviewer),
                 object_type="audit_flag", object_id=flag.id, purpose="audit review",
                 details={"rule": flag.rule, "outcome": outcome, "flagged_user": flag.username, "notes": notes})
    return review


def rule_title(name: str) -> str:
    rule = RULES_BY_NAME.get(name)
    return rule.title if rule else name


# --- weekly reviews -----------------------------------------------------------------------------------------------

def week_start_of(moment: datetime, *, settings: ReviewSettings) -> date:
    """The Monday of the week holding this instant, local time."""
    local = moment.astimezone(ZoneInfo(settings.review_time_zone)).date()
    return local - timedelta(days=local.weekday())


def week_bounds(week_start: date, *, settings: ReviewSettings) -> tuple[datetime, datetime]:
    """The week's first and last instant (exclusive), UTC."""
    zone = ZoneInfo(settings.review_time_zone)
    start = datetime.combine(week_start, time(0), tzinfo=zone)
    end = datetime.combine(week_start + timedelta(days=7), time(0), tzinfo=zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def due_at(week_start: date, *, settings: ReviewSettings) -> datetime:
    """When a week's review is due: the week's end plus review_weekly_due_days, UTC."""
    zone = ZoneInfo(settings.review_time_zone)
    due = datetime.combine(week_start + timedelta(days=7 + settings.review_weekly_due_days), time(0), tzinfo=zone)
    return due.astimezone(timezone.utc)


def _reviewer_roles() -> list[str]:
    return [name for name in ROLES if REVIEW_PERMISSION in permissions_of(name)]


def settle_weekly_reviews(session: Session, *, settings: ReviewSettings) -> dict[str, int]:
    """Make sure every active supervisor has this week's and last week's review on record (last week's only if their
    account existed by its end), and mark those past due as overdue. Idempotent; what it opened and marked."""
    now = clock.utcnow()
    this_week = week_start_of(now, settings=settings)
    weeks = (this_week - timedelta(days=7), this_week)
    supervisors = session.execute(
        select(User.username, User.created_at, Agency.ori).join(Agency, User.agency_id == Agency.id)
        .where(User.role.in_(_reviewer_roles()), User.disabled_at.is_(None))).all()
    existing = {(row.supervisor, row.week_start) for row in session.execute(
        select(WeeklyReview).where(WeeklyReview.week_start.in_(weeks))).scalars()}
    opened = 0
    for username, created_at, ori in supervisors:
        for week in weeks:
            if (username, week) in existing or created_at >= week_bounds(week, settings=settings)[1]:
                continue
            session.add(WeeklyReview(supervisor=username, agency_ori=ori, week_start=week,
                                     due_at=due_at(week, settings=settings), status="due"))
            opened += 1
    session.flush()
    overdue = list(session.execute(select(WeeklyReview).where(WeeklyReview.status == "due",
                                                              WeeklyReview.due_at <= now)).scalars())
    for row in overdue:
        row.status = "overdue"
    session.flush()
    return {"opened": opened, "overdue": len(overdue)}


def list_weekly_reviews(session: Session, *, runtime: Runtime, actor: Actor, weeks: int = 8) -> list[WeeklyReview]:
    """The weekly reviews of the supervisors in the actor's scope over the last `weeks` weeks, newest week first;
    settled first, so a review past due shows as overdue even before the job has run."""
    settings = runtime.settings
    settle_weekly_reviews(session, settings=settings)
    earliest = week_start_of(clock.utcnow(), settings=settings) - timedelta(days=7 * (weeks - 1))
    statement = select(WeeklyReview).where(WeeklyReview.week_start >= earliest)
    in_scope = scope.agency_condition(actor, WeeklyReview.agency_ori, kind=scope.AUDIT)
    if in_scope is not None:
        statement = statement.where(in_scope)
    return list(session.execute(statement.order_by(WeeklyReview.week_start.desc(), WeeklyReview.supervisor)).scalars())


def complete_weekly_review(session: Session, *, runtime: Runtime, actor: Actor, notes: str,
                           week_start: date | None = None) -> WeeklyReview:
    """The actor's review of a week done (default: their oldest one not done); audited with the open flags left."""
    settings = runtime.settings
    notes = " ".join((notes or "").split())
    if len(notes) < MIN_NOTES:
        raise InvalidInput("Say what the weekly review covered (notes, at least a few words).", code="notes_required")
    settle_weekly_reviews(session, settings=settings)
    mine = select(WeeklyReview).where(WeeklyReview.supervisor == actor.username)
    if week_start is not None:
        if week_start.weekday() != 0:
            raise InvalidInput("week_start is the Monday the week begins.", code="invalid_week")
        row = session.execute(mine.where(WeeklyReview.week_start == week_start)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"No weekly review of yours for the week of {week_start}.", code="weekly_review_not_found")
    else:
        row = session.execute(mine.where(WeeklyReview.status != "done").order_by(WeeklyReview.week_start)
                              .limit(1)).scalar_one_or_none()
        if row is None:
            raise NotFound("You have no weekly review due.", code="weekly_review_not_found")
    if row.status == "done":
        raise InvalidInput(f"The review of the week of {row.week_start} is already done.", code="already_done")
    now = clock.utcnow()
    open_flags = session.execute(select(func.count()).select_from(_visible_flags(actor).where(
        AuditFlag.status == "open").subquery())).scalar_one()
    late = now > row.due_at
    row.status, row.completed_at, row.notes, row.flags_open = "done", now, notes, open_flags
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=WeeklyReviewCompleted(agency_ori=row.agency_ori, weekly_review_id=row.id,
                                             supervisor=row.supervisor, week_start=row.week_start.isoformat(), late=late),
                 object_type="audit_weekly_review", object_id=row.id, purpose="audit review",
                 details={"week_start": row.week_start.isoformat(), "late": late, "flags_open": open_flags,
                          "notes": notes})
    return row


# --- what the transparency portal shows ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewStatus:
    """Audit review since an instant: flags raised, reviewed and referred, and weekly reviews done of those due."""

    flags_raised: int
    flags_reviewed: int
    flags_referred: int
    flags_open: int
    flags_by_rule: dict[str, int]
    weekly_reviews_due: int  # whose due time fell in the period
    weekly_reviews_done: int  # of those, done
    weekly_reviews_overdue: int  # of those, not done


def review_status(session: Session, since: datetime) -> ReviewStatus:
    """Counts only (no names, no cases): what the centre's supervisors did with the flags raised since `since`."""
    statuses = Counter(dict(session.execute(select(AuditFlag.status, func.count()).where(AuditFlag.created_at >= since)
                                            .group_by(AuditFlag.status)).all()))
    by_rule = dict(session.execute(select(AuditFlag.rule, func.count()).where(AuditFlag.created_at >= since)
                                   .group_by(AuditFlag.rule)).all())
    weekly = Counter(dict(session.execute(
        select(WeeklyReview.status, func.count())
        .where(WeeklyReview.due_at >= since, WeeklyReview.due_at <= clock.utcnow())
        .group_by(WeeklyReview.status)).all()))
    return ReviewStatus(
        flags_raised=sum(statuses.values()), flags_reviewed=statuses["cleared"] + statuses["referred"],
        flags_referred=statuses["referred"], flags_open=statuses["open"],
        flags_by_rule={rule.name: by_rule.get(rule.name, 0) for rule in RULES},
        weekly_reviews_due=sum(weekly.values()), weekly_reviews_done=weekly["done"],
        weekly_reviews_overdue=weekly["due"] + weekly["overdue"],
    )
