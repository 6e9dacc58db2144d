"""The read store: reads in from any source, stored once, matched against the hotlists as they land."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rtcc.alpr import alerts
from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.models import PlateRead
from rtcc.alpr.plates import MAX_PLATE, normalise_plate
from rtcc.core import clock
from rtcc.core.runtime import Runtime

BATCH = 1000


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
    plate = normalise_plate(read.plate)
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


def _source_read_id(read: ReadIn) -> str:
    """The device's own id for the read, else one derived from what identifies it (so a resend is the same)."""
    if read.source_read_id:
        return read.source_read_id[:100]
    key = f"{read.camera_id}|{read.device_id}|{normalise_plate(read.plate)}|{clock.iso(read.read_at)}"
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def ingest(session: Session, *, runtime: Runtime, hotlists: HotlistCache, source: str, reads: list[ReadIn]) -> IngestReport:
    """Store reads (a resent read is stored once), check each new one against the hotlists, raise alerts."""
    report = IngestReport()
    rows = []
    now = clock.utcnow()
    for position, read in enumerate(reads):
        problem = check_read(read)
        if problem:
            report.rejected.append({"index": read.position if read.position is not None else position, "message": problem})
            continue
        rows.append({
            "plate": normalise_plate(read.plate), "plate_raw": read.plate[:32], "confidence": float(read.confidence),
            "region": read.region, "camera_id": read.camera_id, "device_id": read.device_id, "read_at": read.read_at,
            "latitude": read.latitude, "longitude": read.longitude, "direction": read.direction, "crop_path": read.crop_path,
            "source": source, "source_read_id": _source_read_id(read), "matched": False, "created_at": now,
        })
    if session.get_bind().dialect.name == "postgresql":
        stored = _copy_into_postgresql(session, rows)
    else:
        # One cached statement run over the rows: SQLAlchemy batches it as multi-row INSERTs ("insertmanyvalues").
        statement = (sqlite_insert(PlateRead).on_conflict_do_nothing(index_elements=["source", "source_read_id"])
                     .returning(PlateRead.id, PlateRead.plate, PlateRead.camera_id, PlateRead.read_at))
        stored = []
        for start in range(0, len(rows), BATCH):
            stored.extend(session.execute(statement, rows[start:start + BATCH]).all())
    report.stored = len(stored)
    report.duplicates = len(rows) - len(stored)
    index = hotlists.current(session)
    for read_id, plate, camera_id, read_at in stored:
        matches = index.match(plate, read_at)
        if matches:
            report.alerts += alerts.raise_alerts(session, runtime=runtime, read_id=read_id, plate=plate,
                                                 camera_id=camera_id, read_at=read_at, matches=matches)
    return report


COPY_COLUMNS = ("plate", "plate_raw", "confidence", "region", "camera_id", "device_id", "read_at", "latitude", "longitude",
                "direction", "crop_path", "source", "source_read_id", "matched", "created_at")


def _copy_into_postgresql(session: Session, rows: list[dict]) -> list[tuple[int, str, int | None, datetime]]:
    """COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING: ~10x multi-row INSERTs."""
    if not rows:
        return []
    columns = ", ".join(COPY_COLUMNS)
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS plate_reads_incoming "
                       "(LIKE plate_reads INCLUDING DEFAULTS EXCLUDING IDENTITY) ON COMMIT DELETE ROWS")
        cursor.execute("TRUNCATE plate_reads_incoming")
        with cursor.copy(f"COPY plate_reads_incoming ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(row[name] for name in COPY_COLUMNS))
        cursor.execute(f"INSERT INTO plate_reads ({columns}) SELECT {columns} FROM plate_reads_incoming "
                       "ON CONFLICT (source, source_read_id) DO NOTHING RETURNING id, plate, camera_id, read_at")
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def get_read(session: Session, read_id: int) -> PlateRead | None:
    return session.execute(select(PlateRead).where(PlateRead.id == read_id)).scalar_one_or_none()
