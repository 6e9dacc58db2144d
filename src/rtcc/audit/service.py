"""Append to, verify, search and export the audit chain."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from rtcc.audit.chain import GENESIS_HASH, canonical_json, head_message, record_hash
from rtcc.audit.events import AuditRecorded
from rtcc.audit.models import AuditChainHead, AuditRecord
from rtcc.audit.signing import signer_for
from rtcc.audit.verification import VerifyResult, verify_chain  # noqa: F401 (the service's public face)
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import AuditUnavailable
from rtcc.core.events import Event, emit
from rtcc.core.keys import KeyRing

log = logging.getLogger(__name__)
HEAD_ID = 1
OUTCOMES = ("success", "failure", "denied")


def record(
    session: Session,
    *,
    keys: KeyRing,
    actor: Actor,
    action: str | None = None,
    event: Event | None = None,
    outcome: str = "success",
    object_type: str | None = None,
    object_id: str | int | None = None,
    purpose: str | None = None,
    case_number: str | None = None,
    query_terms: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record in the caller's transaction and queue its event after it; AuditUnavailable if it cannot be written.

    The action is the event's audit action unless the act names its own (one event type, several acts)."""
    action = action or (event.audit_action if event is not None else None)
    if action is None:
        raise ValueError("an audit record needs an action: name it, or pass an event that declares one")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    try:
        head = _lock_head(session)
        if head is None and session.execute(select(func.count()).select_from(AuditRecord)).scalar_one():
            # Appending seq 1 again would fail as a duplicate key and hide the real fault.
            log.error("audit chain head missing while records exist: refusing to append %s", action)
            raise AuditUnavailable("The audit chain head is missing, so the action was not performed; run rtcc audit verify.")
        entry = AuditRecord(
            seq=(head.seq + 1) if head else 1,
            occurred_at=clock.utcnow(),
            username=actor.username,
            agency_ori=actor.agency_ori,
            source_address=actor.source_address,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            outcome=outcome,
            purpose=purpose,
            case_number=case_number,
            query_terms=canonical_json(query_terms) if query_terms else None,
            details=canonical_json(details) if details else None,
            prev_hash=head.record_hash if head else GENESIS_HASH,
        )
        entry.record_hash = record_hash(entry)
        session.add(entry)
        signature = signer_for(keys).sign(head_message(entry.seq, entry.record_hash)).hex()
        if head is None:
            session.add(
                AuditChainHead(
                    id=HEAD_ID, seq=entry.seq, record_hash=entry.record_hash,
                    signature=signature, updated_at=entry.occurred_at,
                )
            )
        else:
            head.seq, head.record_hash, head.signature = entry.seq, entry.record_hash, signature
            head.updated_at = entry.occurred_at
        session.flush()
    except (SQLAlchemyError, OSError) as error:
        # Fail closed: the caller's transaction rolls back, so the action itself does not happen.
        log.error("audit record for %s could not be written: %s", action, type(error).__name__)
        raise AuditUnavailable("The audit trail could not be written, so the action was not performed.") from error
    emit(session, AuditRecorded(seq=entry.seq, action=action, outcome=outcome, username=actor.username,
                                object_type=object_type, object_id=entry.object_id))
    if event is not None:
        emit(session, event)
    return entry


def record_verification(session: Session, *, keys: KeyRing, actor: Actor, result: VerifyResult,
                        via: str | None = None) -> AuditRecord:
    """Append the audit.verify record of a finished verification (its outcome and what it found)."""
    details = {"records_checked": result.records_checked, "problem": result.problem,
               "checkpoints_checked": result.checkpoints_checked}
    if via:
        details["via"] = via
    return record(session, keys=keys, actor=actor, action="audit.verify",
                  outcome="success" if result.ok else "failure", details=details)


def _lock_head(session: Session) -> AuditChainHead | None:
    # PostgreSQL: the head row lock serialises appenders. SQLite: BEGIN IMMEDIATE already did.
    statement = select(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return session.execute(statement).scalar_one_or_none()


@dataclass
class AuditQuery:
    """Filters of an audit search; every field optional."""

    username: str | None = None
    action: str | None = None  # exact, or a prefix ending in '.', e.g. "auth."
    outcome: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    case_number: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def terms(self) -> dict[str, Any]:
        return {key: (clock.iso(value) if isinstance(value, datetime) else value)
                for key, value in self.__dict__.items() if value is not None}


def _filtered(query: AuditQuery):
    statement = select(AuditRecord)
    if query.username:
        statement = statement.where(AuditRecord.username == query.username)
    if query.action:
        if query.action.endswith("."):
            statement = statement.where(AuditRecord.action.startswith(query.action))
        else:
            statement = statement.where(AuditRecord.action == query.action)
    for column, value in (
        (AuditRecord.outcome, query.outcome),
        (AuditRecord.object_type, query.object_type),
        (AuditRecord.object_id, query.object_id),
        (AuditRecord.case_number, query.case_number),
    ):
        if value:
            statement = statement.where(column == value)
    if query.since:
        statement = statement.where(AuditRecord.occurred_at >= query.since)
    if query.until:
        statement = statement.where(AuditRecord.occurred_at < query.until)
    return statement


def search(session: Session, *, query: AuditQuery, limit: int = 100, before_seq: int | None = None) -> list[AuditRecord]:
    """Newest first, at most `limit`, optionally older than `before_seq` (keyset paging)."""
    statement = _filtered(query)
    if before_seq is not None:
        statement = statement.where(AuditRecord.seq < before_seq)
    return list(session.execute(statement.order_by(AuditRecord.seq.desc()).limit(limit)).scalars())


def iterate(session: Session, *, query: AuditQuery, batch_size: int = 2000) -> Iterator[AuditRecord]:
    """Every matching record, oldest first, streamed (for export)."""
    rows = session.execute(_filtered(query).order_by(AuditRecord.seq).execution_options(yield_per=batch_size))
    for entry in rows.scalars():
        yield entry
        session.expunge(entry)


EXPORT_FIELDS = (
    "seq", "occurred_at", "username", "agency_ori", "source_address", "action", "object_type",
    "object_id", "outcome", "purpose", "case_number", "query_terms", "details", "prev_hash", "record_hash",
)


def as_row(entry: AuditRecord) -> dict[str, Any]:
    """A record as plain values, times in ISO 8601 UTC; includes hashes so others can verify."""
    row = {name: getattr(entry, name) for name in EXPORT_FIELDS}
    row["occurred_at"] = clock.iso(entry.occurred_at)
    return row
