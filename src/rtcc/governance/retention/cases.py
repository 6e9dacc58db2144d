"""The case register: whether a case is closed, and since when, for the retention clock "case_closed".

A supervisor closes or reopens a case with a reason (audited). A case number need not have been seen anywhere
before: a case may be closed before its first export. What carries a case number under clock case_closed is
kept while its case is open or unregistered, and goes keep-for after the close (purgers.case_clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.audit.models import AuditRecord
from rtcc.auth import scope
from rtcc.auth.models import Agency
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import Conflict, InvalidInput, NotFound
from rtcc.core.runtime import Runtime
from rtcc.governance.retention.events import CaseClosed, CaseReopened
from rtcc.governance.retention.models import Case
from rtcc.sharing.models import FieldShare
from rtcc.video.evidence.export import CASE_NUMBER
from rtcc.video.models import EvidenceExport

CLOSE, REOPEN = "close", "reopen"
ACTIONS = (CLOSE, REOPEN)
REASON_MIN = 5
OPEN, CLOSED = "open", "closed"


@dataclass(frozen=True)
class CaseState:
    """A case as the list shows it: registered, or only seen on an export or a field share (then open)."""

    case_number: str
    state: str  # open | closed
    opened_at: datetime | None
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_reason: str | None = None
    registered: bool = False


def closed_cases(session: Session) -> dict[str, datetime]:
    """Every closed case's number and the moment it was closed: where a case_closed clock starts."""
    return dict(session.execute(select(Case.case_number, Case.closed_at).where(Case.closed_at.is_not(None))).all())


def _first_seen(session: Session, case_number: str) -> datetime | None:
    """The earliest record carrying the case number: an export, a field share, an audit record (a search)."""
    moments = [session.execute(select(func.min(column)).where(number == case_number)).scalar()
               for column, number in ((EvidenceExport.created_at, EvidenceExport.case_number),
                                      (FieldShare.created_at, FieldShare.case_number),
                                      (AuditRecord.occurred_at, AuditRecord.case_number))]
    return min((moment for moment in moments if moment is not None), default=None)


def _need_reason(reason: str | None, action: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        what = "closed" if action == CLOSE else "reopened"
        raise InvalidInput(f"Say why the case is {what} (at least a few words).", code="reason_required")
    return reason


def act_on_case(session: Session, *, runtime: Runtime, actor: Actor, case_number: str, action: str,
                reason: str) -> Case:
    """A supervisor closes (starting the case_closed clock) or reopens (stopping it) a case, with a reason."""
    if action not in ACTIONS:
        raise InvalidInput(f"A case is closed or reopened (action {' or '.join(ACTIONS)}), not {action!r}.",
                           code="unknown_case_action")
    case_number = (case_number or "").strip()
    if not CASE_NUMBER.match(case_number):
        raise InvalidInput("A case number is required (letters, digits, . _ / -).", code="case_number_required")
    reason = _need_reason(reason, action)
    case = session.execute(select(Case).where(Case.case_number == case_number)).scalar_one_or_none()
    if case is not None and not scope.sees_agency(actor, case.agency_ori, kind=scope.RECORDS):
        raise NotFound(f"No case {case_number!r}.", code="case_not_found")
    now = clock.utcnow()
    if action == CLOSE:
        if case is not None and case.closed_at is not None:
            raise Conflict(f"Case {case_number} is already closed (since {clock.iso(case.closed_at)}).",
                           code="case_closed")
        if case is None:
            case = Case(case_number=case_number, agency_ori=actor.agency_ori,
                        opened_at=_first_seen(session, case_number) or now)
            session.add(case)
        case.closed_at, case.closed_by, case.close_reason = now, actor.username, reason
        event = CaseClosed(case_number=case_number, agency_ori=case.agency_ori)
    else:
        if case is None or case.closed_at is None:
            raise Conflict(f"Case {case_number} is not closed: there is nothing to reopen.", code="case_open")
        closed_at = case.closed_at
        case.closed_at, case.closed_by, case.close_reason = None, None, None
        event = CaseReopened(case_number=case_number, agency_ori=case.agency_ori)
    session.flush()
    details = {"reason": reason}
    if action == REOPEN:
        details["was_closed_at"] = clock.iso(closed_at)
    audit.record(session, keys=runtime.keys, actor=actor, object_type="case", object_id=case.id,
                 case_number=case_number, event=event, details=details)
    return case


def state_of(case: Case) -> CaseState:
    return CaseState(case.case_number, CLOSED if case.closed_at else OPEN, case.opened_at, case.closed_at,
                     case.closed_by, case.close_reason, registered=True)


def list_cases(session: Session, *, runtime: Runtime, actor: Actor, limit: int = 500) -> list[CaseState]:
    """The cases the actor sees with their state, audited (a case list names investigations): the registered
    ones, and the case numbers carried by exports and field shares that nobody closed yet (open)."""
    visible = scope.agencies_visible_to(actor, kind=scope.RECORDS)
    registered = select(Case).order_by(Case.case_number)
    if visible is not None:
        registered = registered.where(or_(Case.agency_ori.in_(visible), Case.agency_ori.is_(None)))
    states = {case.case_number: state_of(case) for case in session.execute(registered).scalars()}
    known = select(Case.case_number)
    exports = select(EvidenceExport.case_number, func.min(EvidenceExport.created_at)).where(
        EvidenceExport.case_number.not_in(known)).group_by(EvidenceExport.case_number)
    shares = select(FieldShare.case_number, func.min(FieldShare.created_at)).join(
        Agency, Agency.id == FieldShare.agency_id).where(FieldShare.case_number.not_in(known))
    if visible is not None:
        shares = shares.where(Agency.ori.in_(visible))
    for number, first in [*session.execute(exports).all(), *session.execute(shares.group_by(FieldShare.case_number)).all()]:
        seen = states.get(number)
        if seen is None or (seen.opened_at and first < seen.opened_at):
            states[number] = CaseState(number, OPEN, first)
    cases = sorted(states.values(), key=lambda c: (c.state != OPEN, c.case_number))[:limit]
    audit.record(session, keys=runtime.keys, actor=actor, action="retention.case_list", object_type="case",
                 details={"count": len(cases)})
    return cases
