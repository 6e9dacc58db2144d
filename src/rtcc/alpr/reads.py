"""The read store: reads in from any source, stored once, matched against the hotlists as they land."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.alpr import alerts
from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.models import PlateRead
from rtcc.alpr.plates import MAX_PLATE, normalise_plate
from rtcc.core import clock
from rtcc.core.runtime import Runtime


@dataclass
class ReadIn:
    """A read as any source reports it, already mapped to our fields."""

    plate: str
    read_at: datetime
    confidence: float = 1.0
    region: str | None = None
    camera_id: int | None = None
    device_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    direction: str | None = None
    crop_path: str | None = None
    source_read_id: str | None = None
    position: int | None = None  # where it stood in the message it came in, for error reports


@dataclass
class IngestReport:
    stored: int = 0
    duplicates: int = 0
    alerts: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def check_read(read: ReadIn) -> str | None:
    """Why a read cannot be stored, or None."""
    return _problem(read, normalise_plate(read.plate))


def _problem(read: ReadIn, plate: str) -> str | None:
    if not 2 <= len(plate) <= MAX_PLATE:
        return f"plate {read.plate!r} is not a plate"
    if read.read_at.tzinfo is None:
        return "read time has no time zone"
    if not 0 <= read.confidence <= 1:
        return "confidence must be between 0 and 1"
    if read.camera_id is None and not read.device_id:
        return "a read needs a camera_id or a device_id"
    if (read.latitude is None) != (read.longitude is None) or (
            read.latitude is not None and not (-90 <= read.latitude <= 90 and -180 <= read.longitude <= 180)):
        return "position must be a WGS84 latitude and longitude pair"
    return None


def _source_read_id(read: ReadIn, plate: str | None = None) -> str:
    """The device's own id for the read, else one derived from what identifies it (so a resend is the same)."""
    if read.source_read_id:
        return read.source_read_id[:100]
    plate = normalise_plate(read.plate) if plate is None else plate
    key = f"{read.camera_id}|{read.device_id}|{plate}|{clock.iso(read.read_at)}"
    return hashlib.sha256(key.encode()).hexdigest()[:40]


# A stored read's fields as ingest prepares them; source, matched and created_at are the same for a whole batch.
ROW_COLUMNS = ("plate", "plate_raw", "confidence", "region", "camera_id", "device_id", "read_at", "latitude", "longitude",
               "direction", "crop_path", "source_read_id")
_PLATE, _CAMERA, _READ_AT, _SOURCE_READ_ID = 0, 4, 6, 11  # positions in a row
SQLITE_LOOKUP = 5000  # read ids looked up per query


def ingest(session: Session, *, runtime: Runtime, hotlists: HotlistCache, source: str, reads: list[ReadIn]) -> IngestReport:
    """Store reads (a resent read is stored once), check each new one against the hotlists, raise alerts.

    A read's identity is (source, source_read_id, read_at): the device's own read id (or one derived from
    camera, device, plate and time) at the read's time. A resent read has the same time, so it is stored once.
    """
    report = IngestReport()
    index = hotlists.current(session)
    match = index.match if index.size else None  # no active entry: nothing to look up for each read
    rows: list[tuple] = []  # the accepted reads, as stored
    hits: dict[int, list] = {}  # position in rows -> the hotlist entries it matches

    def accepted() -> Iterator[tuple]:
        # Checked and matched one by one as the store takes them: on PostgreSQL this Python work runs while
        # the server is still busy with the rows COPY sent before.
        for position, read in enumerate(reads):
            plate = normalise_plate(read.plate)
            problem = _problem(read, plate)
            if problem:
                report.rejected.append({"index": read.position if read.position is not None else position, "message": problem})
                continue
            matches = match and match(plate, read.read_at)
            if matches:
                hits[len(rows)] = matches
            row = (plate, read.plate[:32], float(read.confidence), read.region, read.camera_id, read.device_id,
                   read.read_at, read.latitude, read.longitude, read.direction, read.crop_path, _source_read_id(read, plate))
            rows.append(row)
            yield row

    now = clock.utcnow()
    if not reads:
        stored = []
    elif session.get_bind().dialect.name == "postgresql":
        stored = _store_postgresql(session, source, now, accepted(), rows, most=len(reads))
    else:
        stored = _store_sqlite(session, source, now, list(accepted()))
    report.stored = len(stored)
    report.duplicates = len(rows) - len(stored)
    if stored:
        remember_plates(session, {rows[position][_PLATE] for _, position in stored})
    for read_id, position in stored:
        matches = hits.get(position)
        if matches:
            plate, camera_id, read_at = rows[position][_PLATE], rows[position][_CAMERA], rows[position][_READ_AT]
            report.alerts += alerts.raise_alerts(session, runtime=runtime, read_id=read_id, plate=plate,
                                                 camera_id=camera_id, read_at=read_at, matches=matches)
    return report


def remember_plates(session: Session, plates: Iterable[str]) -> None:
    """Add plates to seen_plates, the list wildcard searches match first (rtcc.alpr.search).

    Sorted, so two writers on PostgreSQL take the key locks in the same order and never deadlock; a plate
    already listed costs one index probe and no write.
    """
    ordered = sorted(plates)
    if not ordered:
        return
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            # One string, split by the server: psycopg would dump a list of 5,000 plates element by element.
            # Plates are letters and digits only, so a space never occurs in one.
            cursor.execute("INSERT INTO seen_plates (plate) SELECT unnest(string_to_array(%s, ' ')) "
                           "ON CONFLICT DO NOTHING", (" ".join(ordered),))
        else:
            cursor.executemany("INSERT OR IGNORE INTO seen_plates (plate) VALUES (?)", [(plate,) for plate in ordered])
    finally:
        cursor.close()


def _store_sqlite(session: Session, source: str, now: datetime, rows: list[tuple]) -> list[tuple[int, int]]:
    """(id, position in rows) of each read stored; plain executemany on the driver (SQLAlchemy's per-row work
    cost more than SQLite's own).

    The session's transaction began with BEGIN IMMEDIATE (rtcc.core.database), so this process holds
    SQLite's write lock: the reads already stored, and the largest id, cannot change under it. So the
    batch's resends are found first (through the idempotency key's index), and the new reads inserted with
    ids counted on from the largest.
    """
    connection = session.connection()
    driver = connection.connection.driver_connection
    read_at_type = PlateRead.__table__.c.read_at.type.dialect_impl(connection.dialect)
    to_time = read_at_type.bind_processor(connection.dialect)  # the exact text SQLAlchemy stores
    cursor = driver.cursor()
    try:
        stored_keys = set()
        for start in range(0, len(rows), SQLITE_LOOKUP):
            chunk = json.dumps(sorted({row[_SOURCE_READ_ID] for row in rows[start:start + SQLITE_LOOKUP]}))
            stored_keys.update(cursor.execute(
                "SELECT source_read_id, read_at FROM plate_reads WHERE source = ? "
                "AND source_read_id IN (SELECT value FROM json_each(?))", (source, chunk)).fetchall())
        next_id = (cursor.execute("SELECT max(id) FROM plate_reads").fetchone()[0] or 0) + 1
        created = to_time(now)
        fresh, stored = [], []
        for position, row in enumerate(rows):
            read_at = to_time(row[_READ_AT])
            key = (row[_SOURCE_READ_ID], read_at)
            if key in stored_keys:
                continue
            stored_keys.add(key)  # the same read twice in one batch is stored once
            fresh.append((next_id, *row[:_READ_AT], read_at, *row[_READ_AT + 1:], source, False, created))
            stored.append((next_id, position))
            next_id += 1
        cursor.executemany(f"INSERT INTO plate_reads ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                           fresh)
        return stored
    finally:
        cursor.close()


COLUMNS = ("id", *ROW_COLUMNS, "source", "matched", "created_at")
COPY_TYPES = ("int8", "varchar", "varchar", "float8", "varchar", "int4", "varchar", "timestamptz", "float8", "float8",
              "varchar", "varchar", "varchar", "varchar", "bool", "timestamptz")
STAGING = ("CREATE TEMP TABLE IF NOT EXISTS plate_reads_incoming (id bigint, plate varchar(16), plate_raw varchar(32), "
           "confidence float8, region varchar(16), camera_id integer, device_id varchar(100), read_at timestamptz, "
           "latitude float8, longitude float8, direction varchar(16), crop_path varchar(500), source_read_id varchar(100), "
           "source varchar(32), matched boolean, created_at timestamptz) ON COMMIT DELETE ROWS")


def _store_postgresql(session: Session, source: str, now: datetime, accepted: Iterator[tuple], rows: list[tuple], *,
                      most: int) -> list[tuple[int, int]]:
    """(id, position in rows) of each read stored: binary COPY straight into plate_reads, or via a staging
    table when the batch holds a read already stored.

    Ids are taken from the sequence first (`most` of them; a rejected read leaves a gap), so every stored
    read's id is known without RETURNING. A fresh batch (the usual case) goes in with one COPY, with no
    per-row conflict check and no second copy. A batch holding a resent read makes that COPY fail on the
    unique key: it is undone to a savepoint, and the batch is copied into a temporary table and moved with
    INSERT ... SELECT ... ON CONFLICT DO NOTHING, which keeps only the new.
    """
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()
    try:
        sequence = connection.info.get("plate_reads_sequence")
        if sequence is None:  # looked up once per connection: inside the query it would cost ~5 µs a read
            cursor.execute("SELECT pg_get_serial_sequence('plate_reads', 'id')")
            sequence = connection.info["plate_reads_sequence"] = cursor.fetchone()[0]
        cursor.execute("SELECT array_agg(nextval(%s::regclass)) FROM generate_series(1, %s)", (sequence, most))
        ids = cursor.fetchone()[0]
        cursor.execute("SAVEPOINT plate_reads_copy")
        try:
            _copy(cursor, "plate_reads", ids, source, now, accepted)
        except UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT plate_reads_copy")
        else:
            cursor.execute("RELEASE SAVEPOINT plate_reads_copy")
            return [(ids[position], position) for position in range(len(rows))]
        for _ in accepted:  # the rest of the batch, had COPY stopped early
            pass
        cursor.execute(STAGING)
        _copy(cursor, "plate_reads_incoming", ids, source, now, rows)
        columns = ", ".join(COLUMNS)
        cursor.execute(f"INSERT INTO plate_reads ({columns}) SELECT {columns} FROM plate_reads_incoming "
                       "ON CONFLICT (source, source_read_id, read_at) DO NOTHING RETURNING id")
        position_of = {read_id: position for position, read_id in enumerate(ids[:len(rows)])}
        stored = sorted((read_id, position_of[read_id]) for (read_id,) in cursor.fetchall())
        cursor.execute("TRUNCATE plate_reads_incoming")
        return stored
    finally:
        cursor.close()


def _copy(cursor, table: str, ids: list[int], source: str, now: datetime, rows: Iterable[tuple]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(COPY_TYPES)
        write = copy.write_row
        for read_id, row in zip(ids, rows):
            write((read_id, *row, source, False, now))


def get_read(session: Session, read_id: int) -> PlateRead | None:
    return session.execute(select(PlateRead).where(PlateRead.id == read_id)).scalar_one_or_none()
