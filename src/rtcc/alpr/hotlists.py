"""Hotlists: lists of wanted plates, imported from NCIC-style CSV or JSON with a per-line report."""

from __future__ import annotations

import csv
import io
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.alpr.matcher import ActiveEntry, HotlistIndex
from rtcc.alpr.models import Hotlist, HotlistEntry
from rtcc.alpr.plates import MAX_PLATE, REGION_CODES, normalise_plate
from rtcc.audit import service as audit
from rtcc.auth.service import get_agency
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import Conflict, InvalidInput, NotFound
from rtcc.core.http import load_json
from rtcc.core.runtime import Runtime

# Column names accepted in imports, with the NCIC field codes (LIC, LIS, VMA, VMO, VCO, NIC, DOE, EXP).
COLUMN_NAMES = {
    "plate": ("plate", "lic", "license_plate", "licence_plate", "tag"),
    "state": ("state", "lis", "region"),
    "reason": ("reason", "offense", "off", "mis", "remarks"),
    "make": ("make", "vma"),
    "model": ("model", "vmo"),
    "colour": ("colour", "color", "vco"),
    "entered_at": ("entered", "entered_at", "doe", "date_of_entry"),
    "expires_at": ("expires", "expires_at", "exp", "expiry"),
    "external_id": ("record_id", "nic", "id", "external_id"),
}


def create_hotlist(session: Session, *, runtime: Runtime, actor: Actor, name: str, source: str, priority: int,
                   agency_ori: str | None, description: str = "") -> Hotlist:
    """A new, empty hotlist owned by an agency."""
    if not 1 <= priority <= 9:
        raise InvalidInput("Priority runs from 1 (highest) to 9.", code="invalid_priority")
    if session.execute(select(Hotlist).where(Hotlist.name == name)).scalar_one_or_none():
        raise Conflict(f"A hotlist named {name!r} exists.", code="hotlist_exists")
    agency = get_agency(session, ori=agency_ori or actor.agency_ori or "")
    hotlist = Hotlist(name=name, source=source, priority=priority, agency_id=agency.id, description=description,
                      created_at=clock.utcnow())
    session.add(hotlist)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor, action="hotlist.create", object_type="hotlist", object_id=hotlist.id,
                 details={"name": name, "source": source, "priority": priority})
    return hotlist


def get_hotlist(session: Session, *, hotlist_id: int) -> Hotlist:
    hotlist = session.get(Hotlist, hotlist_id)
    if hotlist is None:
        raise NotFound(f"No hotlist {hotlist_id}.", code="hotlist_not_found")
    return hotlist


def parse_time(value: Any, *, field_name: str) -> datetime | None:
    """ISO 8601 or NCIC's CCYYMMDD; dates without a zone are UTC."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        parsed = datetime.strptime(text, "%Y%m%d") if text.isdigit() and len(text) == 8 else datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{field_name}: not a date ({text!r}); use YYYY-MM-DD or CCYYMMDD")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _canonical(row: dict[str, Any]) -> dict[str, Any]:
    lowered = {str(key).strip().lower(): value for key, value in row.items() if key is not None}
    return {name: next((lowered[alias] for alias in aliases if alias in lowered), None) for name, aliases in COLUMN_NAMES.items()}


def check_entry(row: dict[str, Any], *, now: datetime) -> dict[str, Any]:
    """A validated entry from an import line, or ValueError saying what is wrong."""
    values = _canonical(row)
    plate = normalise_plate(str(values["plate"] or ""))
    if not 2 <= len(plate) <= MAX_PLATE:
        raise ValueError(f"plate: {values['plate']!r} is not a plate (2-{MAX_PLATE} letters or digits)")
    state = (str(values["state"]).strip().upper() or None) if values["state"] else None
    if state and state not in REGION_CODES:
        raise ValueError(f"state: unknown state or province code {state!r}")
    reason = str(values["reason"] or "").strip()
    if not reason:
        raise ValueError("reason: required (why the plate is wanted)")
    entered = parse_time(values["entered_at"], field_name="entered") or now
    expires = parse_time(values["expires_at"], field_name="expires")
    if expires and expires <= entered:
        raise ValueError("expires: must be after the entry date")
    text = lambda name, size: (str(values[name]).strip()[:size] or None) if values[name] else None  # noqa: E731
    return {
        "plate": plate, "state": state, "reason": reason[:200], "make": text("make", 50), "model": text("model", 50),
        "colour": text("colour", 30), "entered_at": entered, "expires_at": expires,
        "external_id": (str(values["external_id"]).strip() if values["external_id"] else f"{plate}:{state or ''}")[:100],
    }


def _rows(text: str, format: str, *, max_depth: int):
    if format == "csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise InvalidInput("The CSV file is empty.", code="invalid_import")
        for row in reader:
            yield reader.line_num, row
        return
    try:
        # Bounded like every JSON intake: a scheduled import's file is as untrusted as an upload.
        document = load_json(text, max_depth=max_depth)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"Not JSON: {error.msg} at line {error.lineno}.", code="invalid_import")
    entries = document.get("entries") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise InvalidInput("Expected a JSON list of entries (or {\"entries\": [...]}).", code="invalid_import")
    for index, entry in enumerate(entries, start=1):
        yield index, entry if isinstance(entry, dict) else {}


@dataclass
class HotlistImportReport:
    added: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def import_entries(session: Session, *, runtime: Runtime, actor: Actor, hotlist_id: int, text: str, format: str,
                   replace: bool = False) -> HotlistImportReport:
    """Add or update entries by external id; `replace` removes entries absent from this file (a full extract)."""
    hotlist = get_hotlist(session, hotlist_id=hotlist_id)
    now = clock.utcnow()
    report = HotlistImportReport()
    existing = {entry.external_id: entry for entry in session.execute(
        select(HotlistEntry).where(HotlistEntry.hotlist_id == hotlist.id)).scalars()}
    seen: set[str] = set()
    label = "line" if format == "csv" else "entry"
    for position, row in _rows(text, format, max_depth=runtime.settings.max_json_depth):
        try:
            values = check_entry(row, now=now)
        except ValueError as error:
            report.errors.append({label: position, "message": str(error)})
            continue
        seen.add(values["external_id"])
        entry = existing.get(values["external_id"])
        if entry is None:
            entry = HotlistEntry(hotlist_id=hotlist.id, **values)
            session.add(entry)
            existing[values["external_id"]] = entry
            report.added += 1
        else:
            for key, value in values.items():
                setattr(entry, key, value)
            entry.removed_at = None
            entry.version = HotlistEntry.version + 1  # in SQL: two imports at once both count
            report.updated += 1
    removed = 0
    if replace:
        for external_id, entry in existing.items():
            if external_id not in seen and entry.removed_at is None:
                entry.removed_at, removed = now, removed + 1
                entry.version = HotlistEntry.version + 1
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor, action="hotlist.import", object_type="hotlist", object_id=hotlist.id,
                 details={"format": format, "added": report.added, "updated": report.updated, "removed": removed,
                          "rejected": len(report.errors)})
    return report


def active_entries(session: Session) -> list[ActiveEntry]:
    """Entries not removed (expiry is checked at match time, to the second)."""
    rows = session.execute(
        select(HotlistEntry.id, HotlistEntry.hotlist_id, HotlistEntry.plate, Hotlist.priority, HotlistEntry.expires_at)
        .join(Hotlist, Hotlist.id == HotlistEntry.hotlist_id).where(HotlistEntry.removed_at.is_(None))
    ).all()
    return [ActiveEntry(entry_id, hotlist_id, plate, priority, expires_at) for entry_id, hotlist_id, plate, priority, expires_at in rows]


class HotlistCache:
    """The process's HotlistIndex, rebuilt when any hotlist changed (here or in another process).

    Entries are added, updated and removed, never deleted: the count and the sum of ids change with every
    entry added, the sum of versions with every entry changed in place (imports raise it)."""

    def __init__(self):
        self.index = HotlistIndex()
        self._fingerprint: tuple | None = None
        self._lock = threading.Lock()

    def current(self, session: Session) -> HotlistIndex:
        fingerprint = tuple(session.execute(select(
            func.count(HotlistEntry.id), func.max(HotlistEntry.id), func.sum(HotlistEntry.id), func.sum(HotlistEntry.version),
        )).one())
        if fingerprint != self._fingerprint:
            with self._lock:
                if fingerprint != self._fingerprint:
                    self.index.build(active_entries(session))
                    self._fingerprint = fingerprint
        return self.index
