"""The demo's retention story: plate reads from before the demo began, past their policy's keep-for, and a legal
hold on one plate among them. The first retention run at start purges the others and skips the held one, so the
console's Retention page (/console/retention) shows the hold and a receipt that lists the held read it skipped.
A supervisor places and releases further holds there (or POST /api/v1/retention/holds)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import Runtime
from rtcc.governance.retention import service as retention
from rtcc.governance.retention.models import LegalHold

HELD_PLATE = "4HLD404"
OLD_PLATES = (HELD_PLATE, "5OLD505", "6OLD606", "7OLD707")
HOLD_REASON = "Demo: a vehicle in an open hit-and-run investigation (the seeded example of a legal hold)"


def seed_retention(session: Session, *, runtime: Runtime) -> None:
    """Once: old unmatched reads and the hold on one of them (idempotent: the hold marks it done)."""
    if session.execute(select(LegalHold.id).where(LegalHold.reason == HOLD_REASON)).first():
        return
    policy = retention.policy_in_force(session, "plate_reads", runtime=runtime)
    read_at = clock.utcnow() - policy.keep_for - timedelta(days=1)
    ingest(session, runtime=runtime, hotlists=HotlistCache(), source="demo", reads=[
        ReadIn(plate=plate, read_at=read_at + timedelta(minutes=n), confidence=0.9, device_id="demo-history",
               source_read_id=f"demo-history-{plate}") for n, plate in enumerate(OLD_PLATES)])
    retention.place_hold(session, runtime=runtime, actor=SYSTEM, kind="plate", plate=HELD_PLATE, reason=HOLD_REASON,
                         review_at=clock.utcnow() + timedelta(days=30))
