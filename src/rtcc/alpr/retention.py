"""Read retention: reads that matched nothing are deleted after the configured days; alert reads stay.

On PostgreSQL a whole monthly partition older than the cutoff that holds no read to keep is dropped
outright (rtcc.alpr.partitions) instead of deleted row by row; the receipts are the same either way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.orm import Session

from rtcc.alpr import partitions
from rtcc.alpr.models import PlateAlert, PlateRead, SeenPlate
from rtcc.audit import service as audit
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import Runtime
from rtcc.video.models import DeletionReceipt

READ_RECEIPT_CAMERA = 0  # receipts for reads from devices outside the registry
FORGET_CHUNK = 5000  # plates checked per statement when pruning seen_plates


def _tally(totals: dict, camera_id: int | None, count: int, first: datetime, last: datetime) -> None:
    if camera_id in totals:
        seen = totals[camera_id]
        totals[camera_id] = (seen[0] + count, min(seen[1], first), max(seen[2], last))
    else:
        totals[camera_id] = (count, first, last)


def _forget_plates(session: Session, plates: set[str]) -> None:
    """Take out of seen_plates each of these plates that no stored read holds any more: a purged plate must
    not outlive its reads in the list that wildcard searches scan."""
    ordered = sorted(plates)
    if ordered and session.get_bind().dialect.name == "postgresql":
        # Wait for ingest transactions in flight (each holds seen_plates' ROW EXCLUSIVE lock until it commits)
        # and keep new ones out until this sweep commits. Otherwise a read of a plate whose old reads are being
        # purged, stored but not yet committed, is invisible to the check below, and its plate is taken out of
        # the list while it gains a read. (SQLite has one writer at a time: nothing to wait for.)
        session.execute(text("LOCK TABLE seen_plates IN SHARE ROW EXCLUSIVE MODE"))
    for start in range(0, len(ordered), FORGET_CHUNK):
        session.execute(delete(SeenPlate).where(
            SeenPlate.plate.in_(ordered[start:start + FORGET_CHUNK]),
            ~exists().where(PlateRead.plate == SeenPlate.plate)))


def _drop_expired_partitions(session: Session, totals: dict, gone: set[str]) -> list[str]:
    """Count, per camera, the reads of each detached partition, put back any read to keep, and drop it."""
    dropped = []
    for name in partitions.expired_tables(session):
        # A read matched after the partition was checked (a late read matched as it landed) goes back into
        # plate_reads (the default partition takes it, its month being gone) rather than with the partition.
        session.execute(text(f"INSERT INTO plate_reads SELECT * FROM {name} "
                             f"WHERE matched OR id IN (SELECT read_id FROM plate_alerts)"))
        rows = session.execute(text(
            f"SELECT camera_id, count(*), min(read_at), max(read_at) FROM {name} "
            f"WHERE NOT matched AND id NOT IN (SELECT read_id FROM plate_alerts) GROUP BY camera_id")).all()
        for camera_id, count, first, last in rows:
            _tally(totals, camera_id, count, first, last)
        gone.update(session.execute(text(f"SELECT DISTINCT plate FROM {name}")).scalars())
        session.execute(text(f"DROP TABLE {name}"))
        dropped.append(name)
    return dropped


def purge_unmatched_reads(session: Session, *, runtime: Runtime) -> list[DeletionReceipt]:
    """Delete unmatched reads older than read_retention_days; one receipt per camera (count in segment_count).

    Call it in a fresh session: on PostgreSQL it first detaches whole expired partitions in short
    transactions of its own, which would wait for any lock this session already held on plate_reads.
    """
    cutoff = clock.utcnow() - timedelta(days=runtime.settings.read_retention_days)
    totals: dict[int | None, tuple[int, datetime, datetime]] = {}
    dropped: list[str] = []
    gone: set[str] = set()  # plates of the purged reads
    if session.get_bind().dialect.name == "postgresql":
        partitions.detach_purgeable_partitions(session.get_bind(), cutoff=cutoff)
        dropped = _drop_expired_partitions(session, totals, gone)
    behind_alerts = select(PlateAlert.read_id)
    doomed = (PlateRead.read_at < cutoff) & PlateRead.matched.is_(False) & PlateRead.id.not_in(behind_alerts)
    groups = session.execute(
        select(PlateRead.camera_id, func.count(), func.min(PlateRead.read_at), func.max(PlateRead.read_at))
        .where(doomed).group_by(PlateRead.camera_id)
    ).all()
    if groups:
        gone.update(session.execute(select(PlateRead.plate).where(doomed).distinct()).scalars())
        session.execute(delete(PlateRead).where(doomed))
    _forget_plates(session, gone)
    for camera_id, count, first, last in groups:
        _tally(totals, camera_id, count, first, last)
    if not totals:
        return []
    now = clock.utcnow()
    receipts = [DeletionReceipt(camera_id=camera_id if camera_id is not None else READ_RECEIPT_CAMERA, range_start=first,
                                range_end=last, segment_count=count, bytes=0, reason="unmatched_reads", created_at=now)
                for camera_id, (count, first, last) in sorted(totals.items(), key=lambda item: (item[0] is None, item[0] or 0))]
    session.add_all(receipts)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=SYSTEM, action="alpr.purge", object_type="plate_read",
                 details={"reads": sum(r.segment_count for r in receipts), "receipts": [r.id for r in receipts],
                          "older_than": clock.iso(cutoff), "partitions_dropped": dropped})
    return receipts
