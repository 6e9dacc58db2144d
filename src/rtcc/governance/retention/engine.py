"""The one purge engine: per data class, what is past its clock goes in batches, what any open hold covers stays,
and one receipt says what went, over which window, under which policy version, and which held items it skipped.

Each batch commits on its own, with the receipt's running totals. A run that fails half-way leaves its receipt
`running`; the next run of that class resumes it (what went stays counted, what is left is selected again), and
the holds are read again inside every batch's transaction, so nothing held is ever touched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import Runtime
from rtcc.governance.retention.data_classes import CLASSES, data_class
from rtcc.governance.retention.events import RetentionPurged
from rtcc.governance.retention.holds import HoldSet, Item, hold_set
from rtcc.governance.retention.models import DeletionReceipt
from rtcc.governance.retention.purgers import PURGERS, PolicyInForce
from rtcc.governance.retention.service import policy_in_force

log = logging.getLogger(__name__)
BATCH = 500
MAX_PER_RUN = 50_000  # items one class run removes at most; the next sweep goes on
SKIPPED_LISTED = 200  # held items named in a receipt; the count covers them all


@dataclass
class ClassRun:
    """What one class's run purged (or, in a dry run, would purge)."""

    data_class: str
    policy: PolicyInForce
    cutoff: datetime
    dry_run: bool
    count: int = 0
    bytes: int = 0
    first: datetime | None = None
    last: datetime | None = None
    skipped: list[dict] = field(default_factory=list)  # {"item": key, "holds": [ids]}
    breakdown: dict[tuple, dict] = field(default_factory=dict)
    receipt_id: int | None = None
    resumed: bool = False
    kept: dict[str, int] = field(default_factory=dict)  # not purgeable whatever their age: {"case open": 3}

    @property
    def skipped_held(self) -> int:
        return len(self.skipped)

    def tally(self, items: Iterable[Item]) -> None:
        for item in items:
            self.add_line({"camera_id": item.camera_id, "reason": item.reason, "count": 1, "bytes": item.bytes,
                           "first": item.at, "last": item.until})

    def add_line(self, line: dict) -> None:
        self.count += line["count"]
        self.bytes += line["bytes"]
        self.first = line["first"] if self.first is None else min(self.first, line["first"])
        self.last = line["last"] if self.last is None else max(self.last, line["last"])
        key = (line["camera_id"], line["reason"])
        seen = self.breakdown.get(key)
        if seen is None:
            self.breakdown[key] = {**line}
        else:
            seen["count"] += line["count"]
            seen["bytes"] += line["bytes"]
            seen["first"], seen["last"] = min(seen["first"], line["first"]), max(seen["last"], line["last"])

    def breakdown_json(self) -> list[dict]:
        lines = sorted(self.breakdown.values(), key=lambda l: (l["camera_id"] is None, l["camera_id"] or 0, l["reason"]))
        return [{**line, "first": clock.iso(line["first"]), "last": clock.iso(line["last"])} for line in lines]


def _batches(items: list[Item], size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _unfinished_receipt(session: Session, name: str) -> DeletionReceipt | None:
    return session.execute(select(DeletionReceipt).where(DeletionReceipt.data_class == name, DeletionReceipt.status == "running")
                           .order_by(DeletionReceipt.id.desc()).limit(1)).scalar_one_or_none()


def _restore(run: ClassRun, receipt: DeletionReceipt) -> None:
    """Carry a failed run's totals into this one."""
    run.resumed = True
    for line in receipt.breakdown or []:
        run.add_line({**line, "first": datetime.fromisoformat(line["first"].replace("Z", "+00:00")),
                      "last": datetime.fromisoformat(line["last"].replace("Z", "+00:00"))})
    run.skipped = list(receipt.skipped or [])


def _write(receipt: DeletionReceipt, run: ClassRun) -> None:
    receipt.segment_count, receipt.bytes = run.count, run.bytes
    receipt.range_start, receipt.range_end = run.first, run.last
    receipt.breakdown = run.breakdown_json()
    receipt.skipped_held = run.skipped_held
    receipt.skipped = run.skipped[:SKIPPED_LISTED]


def run_class(runtime: Runtime, name: str, *, dry_run: bool = False, batch_size: int = BATCH,
              max_items: int = MAX_PER_RUN) -> ClassRun:
    """Purge one class (or only count, in a dry run); returns what went and what holds kept.

    At most max_items go in one run (memory stays bounded after a policy is shortened a lot); the next
    sweep takes the rest, oldest first."""
    purger = PURGERS[data_class(name).name]
    now = clock.utcnow()
    with runtime.database.session() as db:
        policy = policy_in_force(db, name, runtime=runtime)
        run = ClassRun(name, policy, now - policy.keep_for, dry_run)
        receipt = None if dry_run else _unfinished_receipt(db, name)
        if receipt is not None:
            _restore(run, receipt)
            run.receipt_id = receipt.id
        holds = hold_set(db)
        bulk = getattr(purger, "bulk", None)
        if bulk is not None and not dry_run:
            for line in bulk(db, runtime=runtime, cutoff=run.cutoff, holds=holds):
                run.add_line(line)
        doomed = _sort_out(run, purger.items(db, runtime=runtime, policy=policy, now=now, holds=holds), holds,
                           limit=None if dry_run else max_items)
    if dry_run:
        run.tally(doomed)
        return run
    if receipt is None and (doomed or run.count or (run.skipped and _holds_news(runtime, name, run))):
        with runtime.database.session() as db:
            receipt = DeletionReceipt(data_class=name, status="running", reason=policy.action, segment_count=0, bytes=0,
                                      policy_version=policy.version, cutoff=run.cutoff, created_at=now)
            db.add(receipt)
            _write(receipt, run)
            db.flush()
            run.receipt_id = receipt.id
    for batch in _batches(doomed, batch_size):
        with runtime.database.session() as db:
            fresh = hold_set(db)  # a hold placed since the selection keeps its items
            allowed = [item for item in batch if not fresh.covering(item)]
            run.skipped.extend({"item": item.key, "holds": fresh.covering(item)} for item in batch
                               if fresh.covering(item))
            if allowed:
                purger.remove(db, runtime=runtime, policy=policy, items=allowed)
            run.tally(allowed)
            _write(db.get(DeletionReceipt, run.receipt_id), run)
    if run.receipt_id is not None:
        with runtime.database.session() as db:
            receipt = db.get(DeletionReceipt, run.receipt_id)
            _write(receipt, run)
            receipt.status, receipt.finished_at = "done", clock.utcnow()
            receipt.policy_version, receipt.cutoff = policy.version, run.cutoff
            audit.record(db, keys=runtime.keys, actor=SYSTEM, object_type="deletion_receipt", object_id=receipt.id,
                         event=RetentionPurged(data_class=name, receipt_id=receipt.id, count=run.count, bytes=run.bytes,
                                               skipped_held=run.skipped_held),
                         details={"data_class": name, "count": run.count, "bytes": run.bytes,
                                  "policy_version": policy.version, "older_than": clock.iso(run.cutoff),
                                  "skipped_held": run.skipped_held, "resumed": run.resumed,
                                  "partitions_dropped": sorted({line["partition"] for line in run.breakdown.values()
                                                                if line.get("partition")})})
    return run


def _holds_news(runtime: Runtime, name: str, run: ClassRun) -> bool:
    """Whether a run that only skipped held items has something to say: it skipped other items than the class's
    last receipt did (otherwise every sweep would write the same receipt again while a hold stands)."""
    with runtime.database.session() as db:
        last = db.execute(select(DeletionReceipt).where(DeletionReceipt.data_class == name)
                          .order_by(DeletionReceipt.id.desc()).limit(1)).scalar_one_or_none()
        return last is None or sorted(e["item"] for e in last.skipped or []) != sorted(e["item"] for e in run.skipped)


def _sort_out(run: ClassRun, items: Iterable[Item], holds: HoldSet, *, limit: int | None = None) -> list[Item]:
    """The items that may go (the first `limit`); the held ones are noted on the run with the holds that keep them,
    those kept whatever their age (an open case's) are counted apart."""
    doomed: list[Item] = []
    noted = {entry["item"] for entry in run.skipped}
    for item in items:
        if item.kept_because:
            run.kept[item.kept_because] = run.kept.get(item.kept_because, 0) + 1
            continue
        covering = holds.covering(item)
        if covering:
            if item.key not in noted:
                run.skipped.append({"item": item.key, "holds": covering})
                noted.add(item.key)
        else:
            doomed.append(item)
            if limit is not None and len(doomed) >= limit:
                break
    return doomed


def run(runtime: Runtime, *, dry_run: bool = False, classes: Iterable[str] | None = None) -> list[ClassRun]:
    """Every class (or the named ones) in turn; a class that fails is logged and the others still run."""
    results = []
    for name in classes or CLASSES:
        try:
            results.append(run_class(runtime, name, dry_run=dry_run))
        except Exception:
            if classes:  # asked for by name: the caller hears of it
                raise
            log.exception("retention of %s failed; its receipt stays open and the next run resumes it", name)
    return results
