"""Read retention: reads that matched nothing are deleted after the configured days; alert reads stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from rtcc.alpr.models import PlateAlert, PlateRead
from rtcc.audit import service as audit
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import Runtime
from rtcc.video.models import DeletionReceipt

READ_RECEIPT_CAMERA = 0  # receipts for reads from devices outside the registry


def purge_unmatched_reads(session: Session, *, runtime: Runtime) -> list[DeletionReceipt]:
    """Delete unmatched reads older than read_retention_days; one receipt per camera (count in segment_count)."""
    cutoff = clock.utcnow() - timedelta(days=runtime.settings.read_retention_days)
    behind_alerts = select(PlateAlert.read_id)
    doomed = (PlateRead.read_at < cutoff) & PlateRead.matched.is_(False) & PlateRead.id.not_in(behind_alerts)
    groups = session.execute(
        select(PlateRead.camera_id, func.count(), func.min(PlateRead.read_at), func.max(PlateRead.read_at))
        .where(doomed).group_by(PlateRead.camera_id)
    ).all()
    if not groups:
        return []
    session.execute(delete(PlateRead).where(doomed))
    now = clock.utcnow()
    receipts = [DeletionReceipt(camera_id=camera_id if camera_id is not None else READ_RECEIPT_CAMERA, range_start=first,
                                range_end=last, segment_count=count, bytes=0, reason="unmatched_reads", created_at=now)
                for camera_id, count, first, last in groups]
    session.add_all(receipts)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=SYSTEM, action="alpr.purge", object_type="plate_read",
                 details={"reads": sum(r.segment_count for r in receipts), "receipts": [r.id for r in receipts],
                          "older_than": clock.iso(cutoff)})
    return receipts
