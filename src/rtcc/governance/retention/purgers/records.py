"""Field links' frozen copies, closed incidents, the audit trail's floor, and the classes with no data yet."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rtcc.governance.retention.cases import closed_cases
from rtcc.governance.retention.data_classes import CASE_CLOSED
from rtcc.governance.retention.holds import Item, hold_set
from rtcc.governance.retention.purgers.base import case_clock
from rtcc.incidents.models import Incident
from rtcc.sharing.models import FieldShare
from rtcc.sharing.service import delete_media

log = logging.getLogger(__name__)


def share_item(share: FieldShare) -> Item:
    """A field link's frozen copy as a purgeable item: the time it shows, its camera, case and incident."""
    at = share.starts_at or share.at or share.created_at
    return Item(key=f"share:{share.id}", at=at, until=share.ends_at or at, bytes=share.media_bytes or 0,
                reason="link_ended", camera_id=share.camera_id, case_number=share.case_number,
                incident_id=share.incident_id, ref=share.id)


def share_media_is_held(session: Session, share: FieldShare) -> bool:
    """Whether retention keeps this share's frozen copy past its link's end (sharing asks when a link ends): an
    open legal hold covers it, or the class's clock is case_closed (the engine takes it keep-for after the close)."""
    from rtcc.governance.retention.service import policy_in_force

    if hold_set(session).covering(share_item(share)):
        return True
    return policy_in_force(session, "field_share_media").clock == CASE_CLOSED


class FieldShareMediaPurger:
    """The frozen copies of field links, once the link expired or was revoked (plus the policy's keep-for; under
    clock case_closed, from the later of the link's end and its case's close)."""

    data_class = "field_share_media"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        by_case = policy.clock == CASE_CLOSED
        closed = closed_cases(session) if by_case else {}
        shares = session.execute(select(FieldShare).where(
            FieldShare.media_path.is_not(None), FieldShare.media_deleted_at.is_(None)).order_by(FieldShare.id)).scalars()
        for share in shares:
            ended = min(moment for moment in (share.expires_at, share.revoked_at) if moment is not None)
            if by_case:
                item = case_clock(share_item(share), closed, policy=policy, now=now, not_before=ended)
                if item is not None:
                    yield item
            elif ended + policy.keep_for <= now:
                yield share_item(share)

    def remove(self, session, *, runtime, policy, items) -> None:
        for item in items:
            delete_media(runtime, session.get(FieldShare, item.ref))


class IncidentPurger:
    """Closed incidents (their timelines and docked cameras with them) past keep-for from their close."""

    data_class = "incidents"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        for incident in session.execute(select(Incident).where(
                Incident.closed_at.is_not(None), Incident.closed_at < now - policy.keep_for).order_by(Incident.closed_at)).scalars():
            yield Item(key=f"incident:{incident.id}", at=incident.opened_at, until=incident.closed_at, reason="closed",
                       incident_id=incident.id, ref=incident.id)

    def remove(self, session, *, runtime, policy, items) -> None:
        session.execute(delete(Incident).where(Incident.id.in_([item.ref for item in items])))


class AuditRecordPurger:
    """The audit trail is an append-only signed hash chain (the database refuses DELETE): its policy sets how
    long it is kept at least (never under the CJIS year); nothing is deleted from it here."""

    data_class = "audit_records"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        return iter(())

    def remove(self, session, *, runtime, policy, items) -> None:
        raise AssertionError("audit records are never purged")


class NoDataYet:
    """A class whose capability is yet to come: it has a policy, and reports 0 until its purger registers."""

    def __init__(self, data_class: str):
        self.data_class = data_class

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        return iter(())

    def remove(self, session, *, runtime, policy, items) -> None:
        raise AssertionError(f"{self.data_class} has no data to remove")
