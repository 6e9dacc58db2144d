"""PostgreSQL time partitions of plate_reads: months made ahead of time, whole old months dropped when safe.

On PostgreSQL, plate_reads is PARTITION BY RANGE (read_at) (migration 0010): one partition per calendar
month in UTC, named plate_reads_pYYYY_MM, and plate_reads_default for any read no month covers (a device
whose clock is years off), so no read is ever refused. SQLite keeps one plain table; everything here is a
no-op there.

- `ensure_partitions` makes this month's and the next MONTHS_AHEAD months' partitions (at start-up and at
  every retention sweep), moving any rows the default partition already holds for a new month into it.
- `detach_purgeable_partitions` takes out of plate_reads each monthly partition that lies wholly before the
  retention cutoff and holds no read to keep (matched, or behind an alert), and renames it
  plate_reads_expired_pYYYY_MM; retention then writes its deletion receipts and drops it
  (rtcc.governance.retention.purgers). A detached partition is never written again, so what it holds cannot change
  between the count in the receipt and the drop.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from rtcc.core import clock

log = logging.getLogger(__name__)

MONTHS_AHEAD = 3
MONTHLY = re.compile(r"^plate_reads_p(\d{4})_(\d{2})$")
EXPIRED_PREFIX = "plate_reads_expired_"
DEFAULT_PARTITION = "plate_reads_default"
LOCK_TIMEOUT = "5s"  # DDL on plate_reads waits at most this long for searches and ingest to let go, then gives up


def _add_months(year: int, month: int, count: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + count
    return index // 12, index % 12 + 1


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The [start, end) of a calendar month in UTC."""
    following = _add_months(year, month, 1)
    return (datetime(year, month, 1, tzinfo=timezone.utc), datetime(following[0], following[1], 1, tzinfo=timezone.utc))


def partition_name(year: int, month: int) -> str:
    return f"plate_reads_p{year:04d}_{month:02d}"


def is_partitioned(connection: Connection | Session) -> bool:
    """Whether plate_reads is a partitioned table (PostgreSQL after migration 0010)."""
    dialect = connection.dialect if isinstance(connection, Connection) else connection.get_bind().dialect
    if dialect.name != "postgresql":
        return False
    return bool(connection.execute(text(
        "SELECT EXISTS (SELECT FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = 'plate_reads' AND c.relnamespace = to_regnamespace(current_schema()))")).scalar())


def partitions(connection: Connection | Session) -> list[str]:
    """The names of plate_reads' partitions (monthly ones and the default)."""
    return list(connection.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass('plate_reads') ORDER BY c.relname")).scalars())


def monthly_partitions(connection: Connection | Session) -> list[tuple[str, datetime, datetime]]:
    """(name, start, end) of each monthly partition, oldest first."""
    found = []
    for name in partitions(connection):
        match = MONTHLY.match(name)
        if match:
            found.append((name, *month_bounds(int(match.group(1)), int(match.group(2)))))
    return found


def expired_tables(connection: Connection | Session) -> list[str]:
    """Partitions detached for purging whose rows retention has not dropped yet."""
    return list(connection.execute(text(
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE :prefix "
        "AND relnamespace = to_regnamespace(current_schema()) ORDER BY relname"),
        {"prefix": EXPIRED_PREFIX.replace("_", r"\_") + "%"}).scalars())


def _literal(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("'%Y-%m-%d %H:%M:%S+00'")


def ensure_partitions(session: Session, *, now: datetime | None = None, months_ahead: int = MONTHS_AHEAD) -> list[str]:
    """Make the monthly partitions from this month to `months_ahead` months on that do not exist; their names."""
    if not is_partitioned(session):
        return []
    now = now or clock.utcnow()
    existing = set(partitions(session))
    wanted = [_add_months(now.year, now.month, count) for count in range(months_ahead + 1)]
    made = []
    for year, month in wanted:
        name = partition_name(year, month)
        if name in existing:
            continue
        start, end = month_bounds(year, month)
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        waiting = session.execute(text(
            f"SELECT EXISTS (SELECT FROM {DEFAULT_PARTITION} WHERE read_at >= :start AND read_at < :end)"),
            {"start": start, "end": end}).scalar()
        if waiting:
            # Reads already in the default partition for this month move into the new one: create it apart,
            # move them, attach it (attaching checks the default partition holds none of its range any more).
            session.execute(text(f"CREATE TABLE {name} (LIKE plate_reads INCLUDING DEFAULTS)"))
            session.execute(text(
                f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} WHERE read_at >= :start AND read_at < :end RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM moved"), {"start": start, "end": end})
            session.execute(text(f"ALTER TABLE plate_reads ATTACH PARTITION {name} "
                                 f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"))
        else:
            session.execute(text(f"CREATE TABLE {name} PARTITION OF plate_reads "
                                 f"FOR VALUES FROM ({_literal(start)}) TO ({_literal(end)})"))
        made.append(name)
    return made


def maintain(database, *, now: datetime | None = None) -> list[str]:
    """ensure_partitions in a transaction of its own; never raises for a lock it could not get (retried later)."""
    if database.dialect != "postgresql":
        return []
    try:
        with database.session() as session:
            made = ensure_partitions(session, now=now)
    except OperationalError as error:  # lock_timeout: busy now; the default partition keeps every read meanwhile
        log.warning("plate read partitions not made this time: %s", error.orig)
        return []
    if made:
        log.info("made plate read partitions %s", ", ".join(made))
    return made


def _holds_reads_to_keep(connection: Connection, name: str) -> bool:
    # ix_plate_reads_matched (partial, WHERE matched) and plate_alerts' read_id index make both checks cheap.
    return bool(connection.execute(text(
        f"SELECT EXISTS (SELECT FROM {name} WHERE matched) "
        f"OR EXISTS (SELECT FROM plate_alerts a JOIN {name} r ON r.id = a.read_id)")).scalar())


def detach_purgeable_partitions(engine: Engine, *, cutoff: datetime) -> list[str]:
    """Detach each monthly partition wholly before `cutoff` holding no read to keep; the expired tables' names.

    Each detach is a short transaction of its own (it locks plate_reads for a moment), run before the
    caller's transaction touches plate_reads. A read to keep that arrives after the check (a late read
    matched as it lands) is not lost: retention moves such rows back into plate_reads before dropping.
    """
    detached = []
    with engine.connect() as connection:
        if not is_partitioned(connection):
            return []
        candidates = [name for name, _start, end in monthly_partitions(connection) if end <= cutoff]
        connection.rollback()
        for name in candidates:
            if _holds_reads_to_keep(connection, name):
                connection.rollback()
                continue
            expired = EXPIRED_PREFIX + name.removeprefix("plate_reads_")
            try:
                connection.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
                connection.execute(text(f"ALTER TABLE plate_reads DETACH PARTITION {name}"))
                connection.execute(text(f"ALTER TABLE {name} RENAME TO {expired}"))
                connection.commit()
            except OperationalError as error:
                connection.rollback()
                log.warning("plate read partition %s not detached this time: %s", name, error.orig)
                continue
            detached.append(expired)
    return detached
