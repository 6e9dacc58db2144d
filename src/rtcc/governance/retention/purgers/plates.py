"""Plate reads without a hit and hits with their alerts: partitions dropped whole where they can be."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import delete, exists, select, text
from sqlalchemy.orm import Session

from rtcc.alpr import partitions
from rtcc.alpr.models import PlateAlert, PlateRead, SeenPlate
from rtcc.core.runtime import Runtime
from rtcc.governance.retention.data_classes import REDUCE
from rtcc.governance.retention.holds import HoldSet, Item
from rtcc.governance.retention.purgers.base import _file_size, _unlink

log = logging.getLogger(__name__)
FORGET_CHUNK = 5000  # plates checked per statement when pruning seen_plates
READ_RECEIPT_CAMERA = None  # plate reads from devices outside the registry have no camera

def forget_plates(session: Session, plates: set[str]) -> None:
    """Take out of seen_plates each of these plates that no stored read holds any more: a purged plate must
    not outlive its reads in the list that wildcard searches scan."""
    ordered = sorted(plates)
    if ordered and session.get_bind().dialect.name == "postgresql":
        # Wait for ingest transactions in flight (each holds seen_plates' ROW EXCLUSIVE lock until it commits)
        # and keep new ones out until this batch commits. Otherwise a read of a plate whose old reads are being
        # purged, stored but not yet committed, is invisible to the check below, and its plate is taken out of
        # the list while it gains a read. (SQLite has one writer at a time: nothing to wait for.)
        session.execute(text("LOCK TABLE seen_plates IN SHARE ROW EXCLUSIVE MODE"))
    for start in range(0, len(ordered), FORGET_CHUNK):
        session.execute(delete(SeenPlate).where(
            SeenPlate.plate.in_(ordered[start:start + FORGET_CHUNK]),
            ~exists().where(PlateRead.plate == SeenPlate.plate)))


class PlateReadPurger:
    """Plate reads that matched no hotlist. On PostgreSQL a whole expired month holding no read to keep is
    detached and dropped (rtcc.alpr.partitions) instead of deleted row by row, unless a hold may keep a read."""

    data_class = "plate_reads"

    def bulk(self, session: Session, *, runtime: Runtime, cutoff: datetime, holds: HoldSet) -> list[dict]:
        """PostgreSQL's whole-partition drop; the breakdown lines of what it dropped."""
        if session.get_bind().dialect.name != "postgresql":
            return []
        if holds.touches_plate_reads:
            # A hold may keep any read: put back what an earlier run detached, and purge row by row.
            for name in partitions.expired_tables(session):
                session.execute(text(f"INSERT INTO plate_reads SELECT * FROM {name}"))
                session.execute(text(f"DROP TABLE {name}"))
            return []
        session.commit()  # detaching takes short transactions of its own, which would wait for our locks
        partitions.detach_purgeable_partitions(session.get_bind(), cutoff=cutoff)
        lines: list[dict] = []
        gone: set[str] = set()
        dropped = []
        for name in partitions.expired_tables(session):
            # A read matched after the partition was checked (a late read matched as it landed) goes back into
            # plate_reads (the default partition takes it, its month being gone) rather than with the partition.
            session.execute(text(f"INSERT INTO plate_reads SELECT * FROM {name} "
                                 f"WHERE matched OR id IN (SELECT read_id FROM plate_alerts)"))
            rows = session.execute(text(
                f"SELECT camera_id, count(*), min(read_at), max(read_at) FROM {name} "
                f"WHERE NOT matched AND id NOT IN (SELECT read_id FROM plate_alerts) GROUP BY camera_id")).all()
            lines.extend({"camera_id": camera_id, "reason": "unmatched_reads", "count": count, "bytes": 0,
                          "first": first, "last": last, "partition": name} for camera_id, count, first, last in rows)
            gone.update(session.execute(text(f"SELECT DISTINCT plate FROM {name}")).scalars())
            session.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
        forget_plates(session, gone)
        return lines

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        cutoff = now - policy.keep_for
        statement = select(PlateRead.id, PlateRead.plate, PlateRead.camera_id, PlateRead.read_at, PlateRead.crop_path).where(
            PlateRead.read_at < cutoff, PlateRead.matched.is_(False), PlateRead.id.not_in(select(PlateAlert.read_id)),
        ).order_by(PlateRead.read_at)
        for read_id, plate, camera_id, read_at, crop in session.execute(statement):
            yield Item(key=f"read:{read_id}", at=read_at, until=read_at, reason="unmatched_reads", camera_id=camera_id,
                       plate=plate, ref=(read_id, crop),
                       bytes=_file_size(runtime.settings.data_dir / crop) if crop else 0)

    def remove(self, session, *, runtime, policy, items) -> None:
        ids = [item.ref[0] for item in items]
        session.execute(delete(PlateRead).where(PlateRead.id.in_(ids), PlateRead.matched.is_(False),
                                                PlateRead.id.not_in(select(PlateAlert.read_id))))
        for item in items:
            if item.ref[1]:
                _unlink(runtime.settings.data_dir / item.ref[1])
        forget_plates(session, {item.plate for item in items})


class PlateHitPurger:
    """Hits and their alerts: delete the alert with its read, or reduce (keep the hit, drop the crop image)."""

    data_class = "plate_hits"

    def items(self, session, *, runtime, policy, now, holds) -> Iterator[Item]:
        statement = select(PlateAlert.id, PlateRead.id, PlateRead.plate, PlateRead.camera_id, PlateRead.read_at,
                           PlateRead.crop_path).join(PlateRead, PlateRead.id == PlateAlert.read_id).where(
            PlateAlert.created_at < now - policy.keep_for).order_by(PlateAlert.created_at)
        if policy.action == REDUCE:
            statement = statement.where(PlateRead.crop_path.is_not(None))
        for alert_id, read_id, plate, camera_id, read_at, crop in session.execute(statement):
            yield Item(key=f"alert:{alert_id}", at=read_at, until=read_at, camera_id=camera_id, plate=plate,
                       reason="crop_dropped" if policy.action == REDUCE else "hit_deleted", ref=(alert_id, read_id, crop),
                       bytes=_file_size(runtime.settings.data_dir / crop) if crop else 0)

    def remove(self, session, *, runtime, policy, items) -> None:
        read_ids = {item.ref[1] for item in items}
        for item in items:
            if item.ref[2]:
                _unlink(runtime.settings.data_dir / item.ref[2])
        if policy.action == REDUCE:
            session.execute(PlateRead.__table__.update().where(PlateRead.id.in_(read_ids)).values(crop_path=None))
            return
        session.execute(delete(PlateAlert).where(PlateAlert.id.in_([item.ref[0] for item in items])))
        session.execute(delete(PlateRead).where(PlateRead.id.in_(read_ids), PlateRead.id.not_in(select(PlateAlert.read_id))))
        forget_plates(session, {item.plate for item in items})
